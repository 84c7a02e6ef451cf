"""The simulator's exception types."""

from __future__ import annotations

from ncp_driver.errors import ConfigError, NcpDriverError

__all__ = ["ModelRefusedError", "SimError", "SimSettingsError"]


class SimError(NcpDriverError):
    """A closed-loop simulation that cannot run or finish (exit status 1)."""


class SimSettingsError(SimError, ConfigError):
    """A simulator setting or option that is out of range (a usage error, exit status 2)."""


class ModelRefusedError(SimError):
    """A model the car's pipeline refuses; its exit status is that of the pipeline's error
    (1 for a file that is not a usable model, 2 for one that is not there)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code

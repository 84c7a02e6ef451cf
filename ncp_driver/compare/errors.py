"""The comparison's exception types."""

from __future__ import annotations

from ncp_driver.errors import ConfigError, NcpDriverError

__all__ = ["CompareError", "CompareSettingsError", "ModelUnusableError"]


class CompareError(NcpDriverError):
    """A comparison that cannot run or finish (exit status 1)."""


class CompareSettingsError(CompareError, ConfigError):
    """An option out of range, a missing file or an output that exists (exit status 2)."""


class ModelUnusableError(CompareError):
    """A model the car's pipeline refuses, named with the pipeline's reason (exit status 1)."""

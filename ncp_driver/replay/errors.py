"""The replay layer's exception types."""

from __future__ import annotations

from ncp_driver.errors import ConfigError, MissingModelError, ModelContractError, NcpDriverError

__all__ = ["MissingModelGraphError", "ModelGraphError", "ReplayError", "ReplaySettingsError"]


class ReplayError(NcpDriverError):
    """A replay that cannot run: no camera topic, no readable frame, a bad setting."""


class ReplaySettingsError(ReplayError, ConfigError):
    """A replay setting or ``--param`` that is out of range or unknown (a usage error)."""


class ModelGraphError(ModelContractError):
    """An ONNX model whose graph cannot be cut into the pieces a tool needs."""


class MissingModelGraphError(ModelGraphError, MissingModelError):
    """A model file to load or cut that is not there (a usage error)."""

"""The replay layer's exception types."""

from __future__ import annotations

from ncp_driver.errors import ModelContractError, NcpDriverError

__all__ = ["ModelGraphError", "ReplayError"]


class ReplayError(NcpDriverError):
    """A replay that cannot run: no camera topic, no readable frame, a bad setting."""


class ModelGraphError(ModelContractError):
    """An ONNX model whose graph cannot be cut into the pieces a tool needs."""

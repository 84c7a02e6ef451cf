"""The export layer's exception types."""

from __future__ import annotations

from ncp_driver.errors import NcpDriverError

__all__ = ["ExportError", "ExportParityError"]


class ExportError(NcpDriverError):
    """A model that cannot be exported, or an exported file that fails its checks."""


class ExportParityError(ExportError):
    """onnxruntime and torch disagree by more than the tolerance; no file was written."""

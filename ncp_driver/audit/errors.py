"""The audit layer's exception types."""

from __future__ import annotations

from ncp_driver.errors import NcpDriverError
from ncp_driver.replay.errors import ModelGraphError

__all__ = ["AuditError", "ModelGraphError", "ReplayFormatError"]


class AuditError(NcpDriverError):
    """Base class of the errors raised while analysing a replay or a model."""


class ReplayFormatError(AuditError):
    """A replay directory with a missing or malformed file."""

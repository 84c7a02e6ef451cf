"""The audit layer's exception types."""

from __future__ import annotations

from ncp_driver.errors import MissingInputError, NcpDriverError
from ncp_driver.replay.errors import ModelGraphError

__all__ = ["AuditError", "MissingAuditInputError", "ModelGraphError", "ReplayFormatError"]


class AuditError(NcpDriverError):
    """Base class of the errors raised while analysing a replay or a model."""


class ReplayFormatError(AuditError):
    """A replay directory with a missing or malformed file."""


class MissingAuditInputError(AuditError, MissingInputError):
    """A drive file or replay directory named as an input that is not there."""

"""The training layer's exception types (``DriveDataError`` is the drive reader's, the core's)."""

from __future__ import annotations

from ncp_driver.errors import ConfigError, DriveDataError, MissingInputError, NcpDriverError

__all__ = [
    "CheckpointError",
    "DriveDataError",
    "MissingCheckpointError",
    "RunDirectoryError",
    "TrainingConfigError",
    "TrainingDivergedError",
    "TrainingError",
]


class TrainingError(NcpDriverError):
    """Base class of the errors raised while building, training or checkpointing a model."""


class TrainingConfigError(TrainingError, ConfigError):
    """A training setting that is out of range or inconsistent."""


class TrainingDivergedError(TrainingError):
    """The loss or the gradient became NaN or infinite; the last good checkpoint is kept."""


class CheckpointError(TrainingError):
    """A checkpoint or run directory that cannot be read or written."""


class MissingCheckpointError(CheckpointError, MissingInputError):
    """A checkpoint or run directory that is not there."""


class RunDirectoryError(CheckpointError):
    """A run directory that is missing, incomplete, or would be overwritten."""

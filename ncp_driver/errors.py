"""The exception types of the core. Each layer raises its own subclass.

Messages say what was wrong, where, and what to do next.
"""

from __future__ import annotations


class NcpDriverError(Exception):
    """Base class of every error this package raises on purpose.

    ``exit_code`` is a console script's status for it (:mod:`ncp_driver.exitcodes`): 1, the
    work found a problem (a damaged input, a failed verification).
    """

    exit_code = 1


class UsageError(NcpDriverError):
    """A request that cannot be met as asked: a bad argument or setting, a file that is not
    there, an output that exists. Exit status 2."""

    exit_code = 2


class MissingInputError(UsageError):
    """A file or folder named as an input is not there (combined with each layer's error)."""


class PreprocessingError(NcpDriverError):
    """A frame or a preprocessing specification that cannot be used."""


class ModelContractError(NcpDriverError):
    """An ONNX file that is not an ncp_driver steering model, or is missing part of the contract."""


class MissingModelError(ModelContractError, MissingInputError):
    """A model file that is not there."""


class ProviderError(NcpDriverError):
    """An execution provider was asked for and is not available."""


class ConfigError(UsageError):
    """A setting that is out of range or inconsistent."""


class DriveFileError(NcpDriverError):
    """A drive file that is missing, malformed, or would be overwritten."""


class CardError(NcpDriverError):
    """A model card (``models/*.card.json``) that cannot be made or does not reproduce."""


class CardSpecError(CardError, UsageError):
    """A card's spec that cannot describe its model: a command its tool refuses, a figure it
    states wrongly, a departure from the paper's recipe it does not explain (exit status 2)."""


class DriveExistsError(DriveFileError, UsageError):
    """A drive file that exists already and would be overwritten without ``force``."""


class DriveDataError(DriveFileError):
    """A drive file (or directory of drive files) that cannot be read as a drive: a key
    missing, a wrong shape, a NaN stamp or label."""


class MissingDriveError(DriveDataError, MissingInputError):
    """A drive file or directory that is not there, or a directory without drive files."""

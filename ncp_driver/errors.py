"""The exception types of the core. Each layer raises its own subclass.

Messages say what was wrong, where, and what to do next.
"""

from __future__ import annotations


class NcpDriverError(Exception):
    """Base class of every error this package raises on purpose."""


class PreprocessingError(NcpDriverError):
    """A frame or a preprocessing specification that cannot be used."""


class ModelContractError(NcpDriverError):
    """An ONNX file that is not an ncp_driver steering model, or is missing part of the contract."""


class ProviderError(NcpDriverError):
    """An execution provider was asked for and is not available."""


class ConfigError(NcpDriverError):
    """A setting that is out of range or inconsistent."""


class DriveFileError(NcpDriverError):
    """A drive file that is missing, malformed, or would be overwritten."""


class CardError(NcpDriverError):
    """A model card (``models/*.card.json``) that cannot be made or does not reproduce."""


class DriveDataError(DriveFileError):
    """A drive file (or directory of drive files) that cannot be read as a drive: a key
    missing, a wrong shape, a NaN stamp or label."""

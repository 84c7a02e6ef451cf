"""The images layer's exception type."""

from __future__ import annotations

from ncp_driver import errors

__all__ = ["ImageDecodeError"]


class ImageDecodeError(errors.ImageDecodeError):
    """A camera message that cannot be turned into pixels; the message says why."""

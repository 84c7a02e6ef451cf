"""The images layer's exception type."""

from __future__ import annotations

from ncp_driver.errors import NcpDriverError

__all__ = ["ImageDecodeError"]


class ImageDecodeError(NcpDriverError):
    """A camera message that cannot be turned into pixels (bad encoding, size, data)."""

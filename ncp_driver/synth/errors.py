"""The synthetic drive generator's exception type."""

from __future__ import annotations

from ncp_driver.errors import NcpDriverError

__all__ = ["SynthError"]


class SynthError(NcpDriverError):
    """A drive configuration that cannot be simulated, or an output that cannot be written."""

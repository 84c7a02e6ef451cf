"""The simulator's exception type."""

from __future__ import annotations

from ncp_driver.errors import NcpDriverError

__all__ = ["SimError"]


class SimError(NcpDriverError):
    """A closed-loop simulation that cannot run as asked (bad setting, refused model)."""

"""The fleet evaluation's exception types. Messages name the input, the problem and what to do."""

from __future__ import annotations

from ncp_driver.errors import UsageError

__all__ = ["FleetError"]


class FleetError(UsageError):
    """A fleet evaluation that cannot start: no drives, a bad manifest, a bad option (exit 2)."""

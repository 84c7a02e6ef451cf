"""The node's exception type."""

from __future__ import annotations

from ncp_driver.errors import NcpDriverError

__all__ = ["StartupError"]


class StartupError(NcpDriverError):
    """The node cannot start: a bad parameter or a model that does not load."""

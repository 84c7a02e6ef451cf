"""The report layer's exception type."""

from __future__ import annotations

from ncp_driver.errors import NcpDriverError

__all__ = ["ReportError"]


class ReportError(NcpDriverError):
    """A report that cannot be built or written."""

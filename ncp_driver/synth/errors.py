"""The synthetic drive generator's exception type."""

from __future__ import annotations

from ncp_driver.errors import UsageError

__all__ = ["SynthError"]


class SynthError(UsageError):
    """A drive configuration that cannot be simulated, or an output that exists already: the
    generator's input is its settings, so these are usage errors (exit status 2)."""

"""The auto-mode flag with a liveness timeout: a silent flag publisher means manual.

The drive-by-wire publishes its auto-mode flag (std_msgs/Bool) continuously. If that publisher
goes silent, the last value it sent says nothing about the car any more: past
``auto_mode_timeout_s`` since the last message, :meth:`AutoModeWatch.autonomous` is False
(the car is treated as manual, nothing autonomous is commanded) and :meth:`expired` is True
(the node reports ERROR), as the camera watchdog does for frames. Before the first message the
mode is manual and not expired (nothing was ever heard: the diagnostics warn).
"""

from __future__ import annotations

import math

from ncp_driver.errors import ConfigError

__all__ = ["AutoModeWatch"]


class AutoModeWatch:
    """The last auto-mode flag and when it arrived (receipt times in seconds, any clock)."""

    def __init__(self, timeout_s: float) -> None:
        if not (math.isfinite(timeout_s) and timeout_s > 0):
            raise ConfigError(f"auto_mode_timeout_s = {timeout_s} must be a finite number > 0")
        self.timeout_s = float(timeout_s)
        self._flag = False
        self._at: float | None = None
        self.messages = 0

    def update(self, flag: bool, now: float) -> None:
        """A flag message arrived at ``now``."""
        self._flag = bool(flag)
        self._at = float(now)
        self.messages += 1

    def age(self, now: float) -> float | None:
        """Seconds since the last message (None before the first)."""
        return None if self._at is None else now - self._at

    def expired(self, now: float) -> bool:
        """True when a flag was heard once but not within the timeout before ``now``."""
        age = self.age(now)
        return age is not None and age > self.timeout_s

    def autonomous(self, now: float) -> bool:
        """The mode to drive in at ``now``: the last flag while it is fresh, else manual."""
        return self._flag and not self.expired(now) and self._at is not None

    @property
    def last_flag(self) -> bool:
        """The last value received (whether or not it is still fresh)."""
        return self._flag

"""The latest vehicle speed, forgotten once it is older than a timeout."""

from __future__ import annotations

import math

__all__ = ["LatestSpeed"]


class LatestSpeed:
    """Speed in m/s from the last message, or None when there is none or it is too old."""

    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._speed: float | None = None
        self._at = -math.inf

    def update(self, speed: float, now: float) -> None:
        """Record a measured speed; a non-finite value counts as unknown."""
        self._speed = float(speed) if math.isfinite(speed) else None
        self._at = now

    def value(self, now: float) -> float | None:
        if self._speed is None or now - self._at > self._timeout_s:
            return None
        return self._speed

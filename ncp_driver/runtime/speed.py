"""The vehicle speed for the lateral-acceleration limit: one definition for the car and the replay.

The speed is ``|drive.speed|`` (m/s) of an ``ackermann_msgs/AckermannDrive(Stamped)`` message
(:func:`message_speed`): the latest one received, forgotten ``speed_timeout_s`` after it was
received (:class:`LatestSpeed`); then it is unknown, and with ``max_lateral_accel`` the pipeline
holds the command back. On the car "received" and "now" are the node's clock; in the replay they
are record times in the bag (:func:`speeds_at` runs the same :class:`LatestSpeed` over them).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ncp_driver.topics import ACKERMANN, ACKERMANN_STAMPED

__all__ = ["SPEED_MSGTYPES", "LatestSpeed", "RecordedSpeed", "message_speed", "speeds_at"]

SPEED_MSGTYPES = (ACKERMANN_STAMPED, ACKERMANN)


def message_speed(message: Any) -> float:
    """``|drive.speed|`` of an AckermannDriveStamped (or ``|speed|`` of an AckermannDrive)."""
    drive = getattr(message, "drive", message)
    return abs(float(drive.speed))


class LatestSpeed:
    """Speed in m/s from the last message, or None when there is none or it is too old."""

    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._speed: float | None = None
        self._at = -math.inf

    def update(self, speed: float, now: float) -> None:
        """Record a measured speed received at ``now``; a non-finite value counts as unknown."""
        self._speed = float(speed) if math.isfinite(speed) else None
        self._at = now

    def value(self, now: float) -> float | None:
        if self._speed is None or now - self._at > self._timeout_s:
            return None
        return self._speed


class RecordedSpeed:
    """:class:`LatestSpeed` fed from recorded samples as the clock advances (the replay)."""

    def __init__(self, received: np.ndarray, speeds: np.ndarray, timeout_s: float) -> None:
        self._received = np.asarray(received, dtype=np.float64)
        self._speeds = np.asarray(speeds, dtype=np.float64)
        self._timeout_s = timeout_s
        self._rewind()

    def _rewind(self) -> None:
        self._latest = LatestSpeed(self._timeout_s)
        self._next = 0
        self._now = -math.inf

    def at(self, now: float) -> float | None:
        """The speed at ``now``: every sample received at or before it has arrived."""
        if now < self._now:  # the clock went back: replay the samples from the start
            self._rewind()
        self._now = now
        while self._next < self._received.size and self._received[self._next] <= now:
            k = self._next
            self._latest.update(float(self._speeds[k]), float(self._received[k]))
            self._next += 1
        return self._latest.value(now)


def speeds_at(
    received: np.ndarray, speeds: np.ndarray, times: np.ndarray, timeout_s: float
) -> np.ndarray:
    """The :class:`LatestSpeed` value at each of ``times`` (NaN where unknown), for speed
    samples ``speeds`` received at ``received`` (s, increasing)."""
    times = np.asarray(times, dtype=np.float64)
    out = np.full(times.shape, np.nan)
    track = RecordedSpeed(received, speeds, timeout_s)
    for i in np.argsort(times, kind="stable"):
        value = track.at(float(times[i]))
        if value is not None:
            out[i] = value
    return out

"""The steering actuator: a command reaches the wheels after a delay, through a first-order lag.

A command computed from the frame stamped ``t`` is applied from ``t + delay`` on (the delay is
the actuator's dead time plus the pipeline's compute time); until the next command applies,
the last one holds (a car without a fresh command keeps its steering). The driven curvature
follows the applied command with time constant ``lag_s``, stepped exactly
(``k += (target - k) * (1 - exp(-dt / lag_s))``).
"""

from __future__ import annotations

import math
from collections import deque

__all__ = ["Actuator"]


class Actuator:
    """Commands in (with the time they were computed for), driven curvature out."""

    def __init__(self, delay_s: float, lag_s: float) -> None:
        self.delay_s = float(delay_s)
        self.lag_s = float(lag_s)
        self._pending: deque[tuple[float, float]] = deque()
        self._target = 0.0
        self.curvature = 0.0

    def engage(self, curvature: float) -> None:
        """Take over from the driver: hold the curvature driven now, forget older commands."""
        self._pending.clear()
        self._target = self.curvature = float(curvature)

    def command(self, stamp_s: float, curvature: float) -> None:
        """A command computed for the frame stamped ``stamp_s`` (applies at stamp + delay)."""
        self._pending.append((stamp_s + self.delay_s, float(curvature)))

    def step(self, t: float, dt: float) -> float:
        """The curvature driven from ``t`` to ``t + dt``."""
        while self._pending and self._pending[0][0] <= t + 1e-9:
            self._target = self._pending.popleft()[1]
        self.curvature += (self._target - self.curvature) * (1.0 - math.exp(-dt / self.lag_s))
        return self.curvature

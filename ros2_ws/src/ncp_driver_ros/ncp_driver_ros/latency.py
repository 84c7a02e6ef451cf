"""A rolling window of latencies with its median and 99th percentile."""

from __future__ import annotations

import math
from collections import deque

import numpy as np

__all__ = ["RollingWindow"]


class RollingWindow:
    """The last ``size`` finite samples; quantiles interpolate linearly (numpy's default)."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"window size {size} must be >= 1")
        self._values: deque[float] = deque(maxlen=size)

    def add(self, value: float) -> None:
        """Add a sample; NaN and infinities are ignored."""
        if math.isfinite(value):
            self._values.append(float(value))

    def __len__(self) -> int:
        return len(self._values)

    def quantile(self, q: float) -> float:
        """The ``q`` quantile (0..1) of the window; NaN while it is empty."""
        if not self._values:
            return math.nan
        return float(np.quantile(np.fromiter(self._values, dtype=np.float64), q))

    @property
    def median(self) -> float:
        return self.quantile(0.5)

    @property
    def p99(self) -> float:
        return self.quantile(0.99)

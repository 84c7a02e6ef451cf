"""Frame timing from image stamps: the model's elapsed time and the dropped-frame estimate."""

from __future__ import annotations

import collections
import statistics

__all__ = ["DropEstimator", "clamp_elapsed"]


def clamp_elapsed(elapsed: float, low: float, high: float) -> float:
    """``elapsed`` clamped to ``[low, high]``."""
    return min(max(elapsed, low), high)


class DropEstimator:
    """Counts frames missing from a stream by the gaps between the stamps that arrived.

    The nominal period is the median of the last ``window`` gaps, known once ``min_gaps`` were
    seen (the camera's real rate, whatever the model was trained at). A gap of ``k`` periods,
    ``k >= 1.5``, counts ``round(k) - 1`` dropped frames. Gaps longer than ``max_gap_s`` (a
    stopped camera or a pause in a recording; the pipeline resets on them) and stamps that do
    not advance (a repeated frame, a recording starting over) are not counted and do not enter
    the median.
    """

    def __init__(self, max_gap_s: float, window: int = 31, min_gaps: int = 4) -> None:
        self._max_gap_s = max_gap_s
        self._min_gaps = min_gaps
        self._gaps: collections.deque[float] = collections.deque(maxlen=window)
        self._last: float | None = None
        self._period: float | None = None

    @property
    def nominal_period_s(self) -> float | None:
        """The median recent gap, or None until enough gaps were seen."""
        return self._period

    def observe(self, stamp: float) -> int:
        """Note a frame that arrived; returns how many frames are missing just before it."""
        last, self._last = self._last, stamp
        if last is None or stamp <= last:
            return 0
        gap = stamp - last
        if gap > self._max_gap_s:
            return 0
        dropped = 0
        if self._period is not None:
            periods = gap / self._period
            if periods >= 1.5:
                dropped = round(periods) - 1
        self._gaps.append(gap)
        if len(self._gaps) >= self._min_gaps:
            self._period = statistics.median(self._gaps)
        return dropped

"""The driving mode over time, from the auto-mode flag debounced by :mod:`ncp_driver.takeover`.

The flag holds its value until its next message, and the last value holds to the end of the
recording. Before the flag's first message the mode is unknown and counts as not autonomous.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ncp_driver.takeover import debounce, find_takeovers, mode_segments

if TYPE_CHECKING:
    from ncp_driver.bags.series import Series

__all__ = ["ModeTimeline"]


@dataclass(frozen=True)
class ModeTimeline:
    """Debounced mode: ``stamps`` (s, increasing), ``flags`` (debounced), valid until ``end_s``."""

    stamps: np.ndarray
    raw: np.ndarray
    flags: np.ndarray
    end_s: float
    min_duration_s: float

    @classmethod
    def from_flag(
        cls, stamps: np.ndarray, auto: np.ndarray, end_s: float, min_duration_s: float
    ) -> ModeTimeline:
        stamps = np.asarray(stamps, dtype=np.float64)
        raw = np.asarray(auto).astype(bool)
        flags = debounce(stamps, raw, min_duration_s)
        end = max(float(end_s), float(stamps[-1])) if stamps.size else float(end_s)
        return cls(stamps, raw, flags, end, min_duration_s)

    @classmethod
    def from_series(cls, auto: Series, end_s: float, min_duration_s: float) -> ModeTimeline:
        """The timeline of an auto-flag series (``auto["autonomous"]`` at its record times)."""
        return cls.from_flag(auto.stamp, auto["autonomous"], end_s, min_duration_s)

    def at(self, times: np.ndarray) -> np.ndarray:
        """True where the (debounced) mode is autonomous at ``times``."""
        times = np.asarray(times, dtype=np.float64)
        if self.stamps.size == 0:
            return np.zeros(times.shape, dtype=bool)
        idx = np.searchsorted(self.stamps, times, side="right") - 1
        inside = (idx >= 0) & (times <= self.end_s)
        return inside & self.flags[np.clip(idx, 0, None)]

    def segments(self) -> list[tuple[bool, float, float]]:
        """(autonomous, start s, end s) stretches; the last one runs to the recording's end."""
        segs = mode_segments(self.stamps, self.raw, self.min_duration_s)
        out = [(s.autonomous, s.t_start, s.t_end) for s in segs]
        if out:
            auto, start, _ = out[-1]
            out[-1] = (auto, start, self.end_s)
        return out

    def autonomous_time_s(self) -> float:
        return float(sum(end - start for auto, start, end in self.segments() if auto))

    def takeover_indices(self) -> np.ndarray:
        """Flag-sample indices of the first manual sample of each takeover."""
        return find_takeovers(self.stamps, self.raw, self.min_duration_s)

"""The takeover rule: the paper's "crash", one definition for the bag tools, replay and tests.

A takeover is an autonomous-to-manual transition of the auto-mode flag (``auto[t]`` and not
``auto[t+1]``). The flag is debounced first: a change counts only once the new value has held
for at least ``min_duration_s`` (a flicker shorter than that is ignored). A takeover is stamped
at the first manual sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DEFAULT_MIN_DURATION_S", "ModeSegment", "debounce", "find_takeovers", "mode_segments"]

DEFAULT_MIN_DURATION_S = 0.5


@dataclass(frozen=True)
class ModeSegment:
    """A stretch of constant (debounced) mode: samples ``[start, stop)``, times in seconds."""

    autonomous: bool
    start: int
    stop: int
    t_start: float
    t_end: float


def debounce(
    stamps: np.ndarray, auto: np.ndarray, min_duration_s: float = DEFAULT_MIN_DURATION_S
) -> np.ndarray:
    """The flag with changes that did not hold for ``min_duration_s`` removed.

    A change at sample ``i`` is accepted when the new value is held from ``stamps[i]`` until at
    least ``stamps[i] + min_duration_s`` (or to the end of the recording, if it ends holding).
    """
    stamps = np.asarray(stamps, dtype=np.float64)
    flags = np.asarray(auto, dtype=bool)
    if stamps.shape != flags.shape or stamps.ndim != 1:
        raise ValueError(f"stamps {stamps.shape} and flags {flags.shape} must be equal 1-D arrays")
    if flags.size == 0:
        return flags.copy()
    out = np.empty_like(flags)
    current = bool(flags[0])
    out[0] = current
    i = 1
    n = flags.size
    while i < n:
        if flags[i] == current:
            out[i] = current
            i += 1
            continue
        # Candidate change: find how long the new value holds.
        j = i
        while j < n and flags[j] != current:
            j += 1
        held_until = stamps[j] if j < n else np.inf
        if held_until - stamps[i] >= min_duration_s or j == n:
            current = not current
        out[i:j] = current
        i = j
    return out


def mode_segments(
    stamps: np.ndarray, auto: np.ndarray, min_duration_s: float = DEFAULT_MIN_DURATION_S
) -> list[ModeSegment]:
    """Consecutive stretches of constant debounced mode."""
    flags = debounce(stamps, auto, min_duration_s)
    stamps = np.asarray(stamps, dtype=np.float64)
    if flags.size == 0:
        return []
    edges = np.flatnonzero(flags[1:] != flags[:-1]) + 1
    starts = np.concatenate(([0], edges))
    stops = np.concatenate((edges, [flags.size]))
    return [
        ModeSegment(
            autonomous=bool(flags[a]),
            start=int(a),
            stop=int(b),
            t_start=float(stamps[a]),
            t_end=float(stamps[b]) if b < flags.size else float(stamps[-1]),
        )
        for a, b in zip(starts, stops, strict=True)
    ]


def find_takeovers(
    stamps: np.ndarray, auto: np.ndarray, min_duration_s: float = DEFAULT_MIN_DURATION_S
) -> np.ndarray:
    """Indices of the first manual sample of each takeover (autonomous -> manual)."""
    flags = debounce(stamps, auto, min_duration_s)
    return np.flatnonzero(flags[:-1] & ~flags[1:]) + 1

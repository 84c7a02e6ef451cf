"""The aggregates: each model against the human, the candidate against the reference, per drive,
per tag and over the fleet.

- Agreement with the human (MAE, RMSE, Pearson correlation of curvature, 1/m) in autonomous and
  manual driving apart and over all frames, as ``ncp-replay`` computes it
  (:func:`ncp_driver.replay.metrics.agreement_by_mode`); over the fleet the frames of every
  evaluated drive are pooled (a long drive weighs more than a short one).
- Candidate against reference, per frame: ``difference = candidate - reference`` of the models'
  raw curvature (before the limits), its absolute value's median, 99th percentile and maximum,
  and the share of frames where it exceeds ``diff_threshold``.
- The worst divergent stretches: around each peak of ``|difference|`` the run of frames where it
  stays at or above half the peak; peaks are taken in decreasing order, a peak inside an earlier
  stretch or within ``min_gap_s`` of an earlier peak is not a new stretch.
- The neuron-activity difference (mean over neurons of ``|n_candidate - n_reference|``, per frame
  the two models ran on) when both models are of the same kind with the same neuron count.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver.audit.replay import Replay, load_replay
from ncp_driver.fleet.drives import DriveSpec
from ncp_driver.replay.layout import OUTPUT_FILE
from ncp_driver.replay.metrics import agreement_by_mode

__all__ = [
    "DriveFrames",
    "Stretch",
    "diff_stats",
    "difference_of",
    "load_drive",
    "mae_change",
    "neuron_difference_of",
    "worst_stretches",
]

MODES = ("autonomous", "manual", "all")


@dataclass
class DriveFrames:
    """One evaluated drive: the per-frame series of each model, aligned frame by frame."""

    index: int
    drive: DriveSpec
    replays: dict[str, Replay]  # role -> replay directory read back
    bag_time: np.ndarray  # record time of each frame, s since the epoch
    start_s: float  # the recording's start, s since the epoch
    context: dict[str, Any]
    neuron_diff: np.ndarray | None = None  # per frame (NaN where a model did not run)
    neuron_diff_per_neuron: np.ndarray | None = None  # mean over frames, per neuron
    warnings: list[str] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return int(self.bag_time.size)

    def curvature(self, role: str) -> np.ndarray:
        return self.replays[role].raw_curvature

    @property
    def human(self) -> np.ndarray:
        return next(iter(self.replays.values())).human_curvature

    @property
    def autonomous(self) -> np.ndarray:
        return next(iter(self.replays.values())).autonomous

    def difference(self) -> np.ndarray | None:
        if "reference" not in self.replays:
            return None
        return self.curvature("candidate") - self.curvature("reference")


def _bag_time(directory: Path) -> np.ndarray:
    with (directory / OUTPUT_FILE).open(newline="", encoding="utf-8") as stream:
        rows = csv.DictReader(stream)
        return np.array([float(r["bag_time"]) for r in rows], dtype=np.float64)


def load_drive(
    index: int,
    drive: DriveSpec,
    directories: dict[str, Path],
    context: dict[str, Any],
) -> DriveFrames:
    """Read back each model's replay directory of one drive and line the frames up."""
    replays = {role: load_replay(path) for role, path in directories.items()}
    times = {role: _bag_time(path) for role, path in directories.items()}
    first = next(iter(times.values()))
    for role, t in times.items():
        if t.shape != first.shape or not np.array_equal(t, first):
            raise ValueError(
                f"{drive.name}: the {role} replay saw other frames than the candidate's "
                f"({t.size} against {first.size}); replay both with the same settings"
            )
    start = context.get("start_s")
    frames = DriveFrames(
        index,
        drive,
        replays,
        first,
        float(start) if start is not None else float(first[0]) if first.size else 0.0,
        context,
    )
    _neurons(frames)
    return frames


def _neurons(frames: DriveFrames) -> None:
    """The per-frame neuron-activity difference, when the two models are comparable."""
    if "reference" not in frames.replays:
        return
    cand, ref = frames.replays["candidate"], frames.replays["reference"]
    if cand.neurons is None or ref.neurons is None:
        return
    if (
        cand.metrics.get("kind") != ref.metrics.get("kind")
        or cand.neurons.width != ref.neurons.width
    ):
        return
    n = frames.frames
    rows_c = cand.at_stamps(cand.neurons.stamp)
    rows_r = ref.at_stamps(ref.neurons.stamp)
    values_c = np.full((n, cand.neurons.width), np.nan)
    values_r = np.full((n, ref.neurons.width), np.nan)
    values_c[rows_c[rows_c >= 0]] = cand.neurons.values[rows_c >= 0]
    values_r[rows_r[rows_r >= 0]] = ref.neurons.values[rows_r >= 0]
    delta = np.abs(values_c - values_r)
    both = np.all(np.isfinite(delta), axis=1)
    per_frame = np.full(n, np.nan)
    per_frame[both] = delta[both].mean(axis=1)
    frames.neuron_diff = per_frame
    if both.any():
        frames.neuron_diff_per_neuron = delta[both].mean(axis=0)


def difference_of(d: DriveFrames) -> np.ndarray:
    """The per-frame difference, or NaN without a reference."""
    diff = d.difference()
    return diff if diff is not None else np.full(d.frames, np.nan)


def neuron_difference_of(d: DriveFrames) -> np.ndarray:
    """The per-frame neuron difference, or NaN where not compared."""
    return d.neuron_diff if d.neuron_diff is not None else np.full(d.frames, np.nan)


def agreement_doc(pred: np.ndarray, human: np.ndarray, auto: np.ndarray) -> dict[str, Any]:
    return {mode: m.to_dict() for mode, m in agreement_by_mode(pred, human, auto).items()}


def diff_stats(diff: np.ndarray, threshold: float) -> dict[str, Any]:
    """Median, p99 and max of |difference| and the share above ``threshold``, finite frames."""
    absd = np.abs(diff[np.isfinite(diff)])
    if absd.size == 0:
        return {"frames": 0, "median": None, "p99": None, "max": None, "share_over": None}
    return {
        "frames": int(absd.size),
        "median": float(np.median(absd)),
        "p99": float(np.percentile(absd, 99)),
        "max": float(absd.max()),
        "share_over": float(np.count_nonzero(absd > threshold) / absd.size),
    }


def neuron_stats(values: np.ndarray | None) -> dict[str, Any] | None:
    if values is None:
        return None
    ok = values[np.isfinite(values)]
    if ok.size == 0:
        return None
    return {
        "frames": int(ok.size),
        "mean": float(ok.mean()),
        "p99": float(np.percentile(ok, 99)),
        "max": float(ok.max()),
    }


def mae_change(candidate: dict[str, Any], reference: dict[str, Any], mode: str) -> float | None:
    """Relative change of MAE, candidate against reference (0.05 = 5 % worse)."""
    c, r = candidate[mode]["mae"], reference[mode]["mae"]
    if c is None or r is None:
        return None
    if r == 0:
        return 0.0 if c == 0 else math.inf
    return c / r - 1.0


@dataclass(frozen=True)
class Stretch:
    """Frames ``[first, last]`` of a drive around the peak frame ``peak``."""

    drive: int  # index into the evaluated drives
    first: int
    last: int
    peak: int
    peak_diff: float  # |difference| at the peak, 1/m


def stretches_of(
    drive: int, t: np.ndarray, diff: np.ndarray, count: int, min_gap_s: float
) -> list[Stretch]:
    """The ``count`` largest divergent stretches of one drive (module docstring)."""
    absd = np.abs(diff)
    absd = np.where(np.isfinite(absd), absd, 0.0)
    order = np.lexsort((np.arange(absd.size), -absd))  # largest first, earlier frame on ties
    found: list[Stretch] = []
    for i in order:
        peak = float(absd[i])
        if peak <= 0 or len(found) >= count:
            break
        if any(s.first <= i <= s.last or abs(t[i] - t[s.peak]) < min_gap_s for s in found):
            continue
        lo = hi = int(i)
        while lo > 0 and absd[lo - 1] >= peak / 2:
            lo -= 1
        while hi < absd.size - 1 and absd[hi + 1] >= peak / 2:
            hi += 1
        found.append(Stretch(drive, lo, hi, int(i), peak))
    return found


def worst_stretches(drives: Sequence[DriveFrames], count: int, min_gap_s: float) -> list[Stretch]:
    """The ``count`` worst stretches over the fleet, largest peak first."""
    every: list[Stretch] = []
    for frames in drives:
        diff = frames.difference()
        if diff is None:
            continue
        every.extend(stretches_of(frames.index, frames.bag_time, diff, count, min_gap_s))
    every.sort(key=lambda s: (-s.peak_diff, s.drive, s.peak))
    return every[:count]

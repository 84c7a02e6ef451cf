"""The passive test: a model's open-loop curvature on held-out drives, per fold.

Each drive's frames go, in order, through a fresh :class:`~ncp_driver.runtime.SteeringPipeline`
(the car's class, as ``ncp-replay`` runs a bag): the recurrent state is carried along the whole
drive, elapsed times come from the stamps, the model's output before limits is compared with the
drive's ``inverse_r`` (:func:`ncp_driver.replay.metrics.agreement`). The models are not
retrained per fold: a fold is a group of held-out drives, not the paper's full cross-testing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ncp_driver.compare.drives import HeldOutDrive
from ncp_driver.compare.errors import CompareError
from ncp_driver.drives import DriveDataError, open_drive, read_frames
from ncp_driver.replay.metrics import agreement
from ncp_driver.runtime import PipelineConfig, SteeringPipeline
from ncp_driver.schemas import CompareFold, ComparePassive, Spread

__all__ = ["DriveRun", "fold_figures", "run_drive", "spread"]

_CHUNK = 64  # frames read from the file at a time


@dataclass(frozen=True)
class DriveRun:
    """One model over one drive: per frame what the pipeline gave, and the label."""

    drive: str
    stamp: np.ndarray  # (N,) s
    predicted: np.ndarray  # (N,) the model's curvature before limits, NaN without one
    label: np.ndarray  # (N,) the drive's inverse_r
    statuses: dict[str, int]


def run_drive(model: Path, pipeline: PipelineConfig, held_out: HeldOutDrive) -> DriveRun:
    """The drive's frames through a fresh pipeline of ``model`` (autonomous throughout)."""
    entry, path = held_out
    pipe = SteeringPipeline(replace(pipeline, model_path=str(model)))
    pipe.set_autonomous(True)
    spec = pipe.spec
    try:
        info = open_drive(path, spec)
    except DriveDataError as exc:
        raise CompareError(f"drive {entry.name}: {exc}") from exc
    n = info.length
    predicted = np.full(n, np.nan)
    statuses: dict[str, int] = {}
    for start in range(0, n, _CHUNK):
        try:
            frames = read_frames(info, slice(start, min(n, start + _CHUNK)), spec)
        except DriveDataError as exc:
            raise CompareError(f"drive {entry.name}: {exc}") from exc
        for offset, frame in enumerate(frames):
            i = start + offset
            result = pipe.process_frame(frame, float(info.stamps[i]))
            statuses[result.status.value] = statuses.get(result.status.value, 0) + 1
            if result.command is not None:
                predicted[i] = result.command.raw_curvature
    return DriveRun(
        drive=entry.name,
        stamp=info.stamps.copy(),
        predicted=predicted,
        label=info.inverse_r.astype(np.float64),
        statuses=statuses,
    )


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def spread(values: Sequence[float | None]) -> Spread:
    """Mean and population std of the values that are known (None if none is)."""
    known = [v for v in values if v is not None and math.isfinite(v)]
    if not known:
        return Spread(None, None)
    return Spread(float(np.mean(known)), float(np.std(known)))


def fold_figures(runs: Sequence[DriveRun], folds: dict[str, int]) -> ComparePassive:
    """Agreement pooled over each fold's drives, and mean +- std across the folds."""
    rows = []
    for fold in sorted(set(folds.values())):
        members = [r for r in runs if folds[r.drive] == fold]
        if not members:
            continue
        pred = np.concatenate([r.predicted for r in members])
        label = np.concatenate([r.label for r in members])
        m = agreement(pred, label)
        rows.append(
            CompareFold(
                fold=fold,
                drives=[r.drive for r in members],
                frames=m.frames,
                mae=_finite(m.mae),
                rmse=_finite(m.rmse),
                corr=_finite(m.corr),
            )
        )
    return ComparePassive(
        folds=rows,
        mae=spread([r.mae for r in rows]),
        rmse=spread([r.rmse for r in rows]),
        corr=spread([r.corr for r in rows]),
    )

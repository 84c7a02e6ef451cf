"""Replay metrics against the human: MAE, RMSE and correlation of curvature, per driving mode."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["AgreementMetrics", "agreement", "agreement_by_mode"]


@dataclass(frozen=True)
class AgreementMetrics:
    """How closely predicted curvature follows the human's (both in 1/m)."""

    frames: int
    mae: float
    rmse: float
    corr: float  # Pearson; NaN when either series is constant or there are < 2 frames

    def to_dict(self) -> dict[str, float | int | None]:
        """JSON-ready: NaN becomes None."""
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in asdict(self).items()
        }


def agreement(predicted: np.ndarray, human: np.ndarray) -> AgreementMetrics:
    """Metrics over the frames where both values are finite."""
    pred = np.asarray(predicted, dtype=np.float64)
    ref = np.asarray(human, dtype=np.float64)
    ok = np.isfinite(pred) & np.isfinite(ref)
    pred, ref = pred[ok], ref[ok]
    n = int(pred.size)
    if n == 0:
        return AgreementMetrics(0, math.nan, math.nan, math.nan)
    err = pred - ref
    corr = math.nan
    if n >= 2 and np.std(pred) > 0 and np.std(ref) > 0:
        corr = float(np.corrcoef(pred, ref)[0, 1])
    return AgreementMetrics(n, float(np.mean(np.abs(err))), float(np.sqrt(np.mean(err**2))), corr)


def agreement_by_mode(
    predicted: np.ndarray, human: np.ndarray, autonomous: np.ndarray
) -> dict[str, AgreementMetrics]:
    """Metrics over autonomous frames, manual frames, and all frames."""
    auto = np.asarray(autonomous, dtype=bool)
    return {
        "autonomous": agreement(predicted[auto], human[auto]),
        "manual": agreement(predicted[~auto], human[~auto]),
        "all": agreement(predicted, human),
    }

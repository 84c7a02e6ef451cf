"""Smoothness of the recurrent dynamics: the audit's local Lipschitz constants along a drive.

The cell cut from the model file (:class:`ncp_driver.audit.CellModel`) is run over the conv
features, elapsed times and resets the pipeline gave on the first held-out drive of the passive
test, and :func:`ncp_driver.audit.smoothness` takes the state Jacobians' spectral norms
(docs/audit.md). A feed-forward model has no state: no figure.
"""

from __future__ import annotations

import math
from pathlib import Path

from ncp_driver.audit import CellModel, smoothness
from ncp_driver.compare.passive import DriveRun
from ncp_driver.schemas import CompareSmoothness

__all__ = ["lipschitz", "no_state_note"]


def no_state_note(kind: str) -> str:
    return f"n/a: {kind} is feed-forward (no recurrent state, so no dynamics to be smooth)"


def lipschitz(model: Path, run: DriveRun, max_frames: int) -> CompareSmoothness:
    """The Lipschitz figures of ``model``'s state update along ``run``."""
    cell = CellModel(model)
    rollout = cell.rollout(run.model_stamp, run.features, run.reset, run.elapsed_s)
    found = smoothness(cell, rollout, max_frames=max_frames)
    figures = found.to_dict()  # the audit's own summary of the curve
    return CompareSmoothness(
        drive=run.drive,
        frames=int(found.spectral_norm.size),
        state_size=cell.state_size,
        max_spectral_norm=_known(figures["max_spectral_norm"]),
        median_spectral_norm=_known(figures["median_spectral_norm"]),
        p95_spectral_norm=_known(figures["p95_spectral_norm"]),
        eps=found.eps,
    )


def _known(value: object) -> float | None:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None

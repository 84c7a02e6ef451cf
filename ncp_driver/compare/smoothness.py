"""Smoothness of the recurrent dynamics: the audit's local Lipschitz constants along the
closed-loop drive.

The model drives the first road of ncp-sim's set once more, noise-free, in this process
(:func:`ncp_driver.sim.drive_closed_loop`, the same world, pipeline and compute delay as its
active runs), so the states are those its own steering led to. The cell cut from the model
file (:class:`ncp_driver.audit.CellModel`) is run over the conv features, elapsed times and
resets the pipeline gave on that drive, and :func:`ncp_driver.audit.smoothness` takes the state
Jacobians' spectral norms (docs/audit.md). A feed-forward model has no state: no figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from ncp_driver.audit import CellModel, smoothness
from ncp_driver.bags.typestore import make_typestore
from ncp_driver.compare.errors import CompareError
from ncp_driver.runtime import SteeringPipeline
from ncp_driver.schemas import CompareSmoothness
from ncp_driver.sim import Driver, SimSettings, drive_closed_loop, make_world

__all__ = ["StateTrace", "closed_loop_trace", "lipschitz", "no_state_note"]


def no_state_note(kind: str) -> str:
    return f"n/a: {kind} is feed-forward (no recurrent state, so no dynamics to be smooth)"


@dataclass(frozen=True)
class StateTrace:
    """What the cell was fed, frame by frame, on one drive."""

    drive: str
    stamp: np.ndarray  # (N,) s
    features: np.ndarray  # (N, F)
    elapsed_s: np.ndarray  # (N,)
    reset: np.ndarray  # (N,) bool: the state was zeroed before the frame


def closed_loop_trace(driver: Driver, settings: SimSettings) -> StateTrace:
    """``driver`` on the first road of ``settings``, noise-free: the frames its cell ran on."""
    if driver.pipeline is None:
        raise CompareError(f"{driver.name} has no model to trace")
    seed = settings.road_seeds[0]
    with threadpool_limits(1, user_api="blas"):  # as ncp-sim's workers (docs/sim.md, Speed)
        record = drive_closed_loop(
            make_world(settings, seed),
            settings,
            SteeringPipeline(driver.pipeline),
            0.0,
            driver.compute_s,
            make_typestore(),
        )
    frames = record.frames
    picked = [(i, f) for i, f in enumerate(frames.features) if f is not None]
    rows = [i for i, _ in picked]
    if not rows:
        raise CompareError(f"{driver.name} ran on no frame of the closed-loop drive")
    return StateTrace(
        drive=f"closed loop, road {seed}, noise 0",
        stamp=np.asarray([frames.stamp_ns[i] for i in rows], np.float64) * 1e-9,
        features=np.stack([f for _, f in picked]).astype(np.float32),
        elapsed_s=np.asarray([frames.elapsed_s[i] for i in rows], np.float32),
        reset=np.asarray([bool(frames.reset_reason[i]) for i in rows], bool),
    )


def lipschitz(model: Path, trace: StateTrace, max_frames: int) -> CompareSmoothness:
    """The Lipschitz figures of ``model``'s state update along ``trace``."""
    cell = CellModel(model)
    rollout = cell.rollout(trace.stamp, trace.features, trace.reset, trace.elapsed_s)
    found = smoothness(cell, rollout, max_frames=max_frames)
    figures = found.to_dict()  # the audit's own summary of the curve
    return CompareSmoothness(
        drive=trace.drive,
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

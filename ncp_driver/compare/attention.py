"""Attention under noise: SSIM of VisualBackProp saliency against the noise-free maps.

The audit's analysis (:func:`ncp_driver.audit.saliency.saliency_noise_robustness`: the conv head
cut from the model file, the replay's seeded :class:`~ncp_driver.replay.noise.InputNoise`, SSIM
of Wang et al.) on frames spread evenly over the held-out drives: the paper's SSIM figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ncp_driver.audit import SaliencyModel
from ncp_driver.audit.frames import read_drive_frames
from ncp_driver.audit.saliency import saliency_noise_robustness
from ncp_driver.compare.drives import HeldOutDrive
from ncp_driver.preprocessing import Preprocessing, to_model_input
from ncp_driver.schemas import CompareAttention

__all__ = ["attention", "saliency_frames"]


def saliency_frames(drives: Sequence[HeldOutDrive], spec: Preprocessing, count: int) -> np.ndarray:
    """``count`` preprocessed uint8 frames, spread evenly over the drives (and within each)."""
    per_drive = max(1, math.ceil(count / len(drives)))
    parts = [read_drive_frames(path, spec, per_drive)[1] for _, path in drives]
    frames = np.concatenate(parts)
    if frames.shape[0] > count:
        frames = frames[np.linspace(0, frames.shape[0] - 1, count).round().astype(int)]
    return frames


def attention(
    model: Path, frames: np.ndarray, levels: Sequence[float], seed: int
) -> CompareAttention:
    """SSIM mean and std over ``frames`` at each level > 0 (level 0 is the reference)."""
    saliency = SaliencyModel(model)
    noisy = [float(v) for v in levels if v > 0]
    if not noisy:
        return CompareAttention([], int(frames.shape[0]), seed, [], [], list(saliency.layer_names))
    robust = saliency_noise_robustness(
        saliency, to_model_input(frames, saliency.contract.preprocessing), noisy, seed=seed
    )
    return CompareAttention(
        levels=list(robust.levels),
        frames=int(frames.shape[0]),
        seed=seed,
        ssim_mean=[_known(v) for v in robust.mean()],
        ssim_std=[_known(v) for v in robust.std()],
        layers=list(saliency.layer_names),
    )


def _known(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None

"""Small learnable drives for tests and demos (not data: a sanity check for the pipeline).

Each frame shows a bright vertical stripe over a noisy grey road; the stripe's position across
the crop encodes the curvature label (left of centre: positive, a left turn), so a network
that learns anything lowers its loss. Frames are written either already preprocessed
(78 x 200) or as full camera frames whose crop band holds the stripe.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ncp_driver.drives import write_drive
from ncp_driver.preprocessing import PAPER_PREPROCESSING, Preprocessing

__all__ = ["MAX_INVERSE_R", "synthetic_frame", "write_synthetic_drive"]

MAX_INVERSE_R = 0.002  # 1/m: a 500 m radius; x1000 gives training targets in [-2, 2]


def synthetic_frame(
    inverse_r: float,
    height: int,
    width: int,
    rng: np.random.Generator,
    preprocessing: Preprocessing = PAPER_PREPROCESSING,
) -> np.ndarray:
    """One H x W x 3 uint8 frame whose stripe position (within the crop) encodes ``inverse_r``."""
    if (height, width) == (preprocessing.out_height, preprocessing.out_width):
        x0, x1, y0, y1 = 0, width, 0, height
    else:
        box = preprocessing.crop_box(height, width)
        x0, x1, y0, y1 = box.x0, box.x1, box.y0, box.y1
    frame = rng.normal(90.0, 12.0, size=(height, width, 3))
    position = 0.5 - 0.4 * float(np.clip(inverse_r / MAX_INVERSE_R, -1.0, 1.0))
    centre = x0 + position * (x1 - x0)
    half = max(1.0, 0.06 * (x1 - x0))
    columns = np.arange(width)
    stripe = np.clip(1.0 - np.abs(columns - centre) / half, 0.0, 1.0)
    frame[y0:y1] += 140.0 * stripe[None, :, None]
    return np.clip(frame, 0, 255).astype(np.uint8)


def write_synthetic_drive(
    path: Path,
    frames: int = 96,
    seed: int = 0,
    frame_shape: tuple[int, int] = (78, 200),
    frame_period_s: float = 1.0 / 30.0,
    start_s: float = 1_700_000_000.0,
    gap_at: int | None = None,
    gap_s: float = 6.0,
) -> Path:
    """Write a drive of ``frames`` frames; ``gap_at`` inserts a ``gap_s`` stamp gap there."""
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0.0, 2.0 * np.pi)
    period = rng.uniform(30.0, 60.0)
    t = np.arange(frames)
    labels = MAX_INVERSE_R * np.sin(2.0 * np.pi * t / period + phase)
    stamps = start_s + t * frame_period_s
    if gap_at is not None:
        stamps[gap_at:] += gap_s
    height, width = frame_shape
    images = (synthetic_frame(float(y), height, width, rng) for y in labels)
    return write_drive(Path(path), images, stamps.tolist(), labels.tolist(), source="synthetic")

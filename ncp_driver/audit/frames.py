"""Camera frames for saliency: from a drive file in the paper's HDF5 layout, preprocessed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ncp_driver.audit.errors import AuditError
from ncp_driver.drives import FRAMES, TIMESTAMP
from ncp_driver.preprocessing import PAPER_PREPROCESSING, Preprocessing, crop_and_resize

__all__ = ["read_drive_frames"]


def read_drive_frames(
    path: Path | str,
    spec: Preprocessing = PAPER_PREPROCESSING,
    count: int = 16,
    start: int = 0,
    stop: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` frames evenly spread over ``[start, stop)`` of a drive file.

    Returns the stamps (N,) and the preprocessed uint8 images (N, H, W, 3); scale them with
    ``ncp_driver.preprocessing.to_model_input`` for the model.
    """
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise AuditError(
            "h5py is needed to read drive files: pip install 'ncp-driver[bags]'"
        ) from exc
    path = Path(path)
    if not path.is_file():
        raise AuditError(f"drive file {path} does not exist")
    try:
        with h5py.File(path, "r") as drive:
            if FRAMES not in drive:
                raise AuditError(f"{path} has no '{FRAMES}' dataset: not a drive file")
            frames = drive[FRAMES]
            total = int(frames.shape[0])
            end = total if stop is None else min(stop, total)
            if not 0 <= start < end:
                raise AuditError(f"{path} has {total} frames; the range [{start}, {end}) is empty")
            index = np.unique(np.linspace(start, end - 1, max(1, count)).round().astype(int))
            stamps = (
                np.asarray(drive[TIMESTAMP][index], dtype=np.float64)
                if TIMESTAMP in drive
                else index.astype(np.float64)
            )
            images = np.stack(
                [crop_and_resize(np.asarray(frames[i]).astype(np.uint8), spec) for i in index]
            )
    except OSError as exc:
        raise AuditError(f"cannot read drive file {path}: {exc}") from exc
    return stamps, images

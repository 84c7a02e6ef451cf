"""Camera frames for saliency: from a drive file in the paper's HDF5 layout, preprocessed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ncp_driver.audit.errors import AuditError, MissingAuditInputError
from ncp_driver.drives import DriveFileError, open_drive, read_frames
from ncp_driver.preprocessing import PAPER_PREPROCESSING, Preprocessing

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
    ``ncp_driver.preprocessing.to_model_input`` for the model. Read by the training's reader
    (:mod:`ncp_driver.drives`).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingAuditInputError(f"drive file {path} does not exist")
    try:
        info = open_drive(path, spec)
        end = info.length if stop is None else min(stop, info.length)
        if not 0 <= start < end:
            raise AuditError(
                f"{path} has {info.length} frames; the range [{start}, {end}) is empty"
            )
        index = np.unique(np.linspace(start, end - 1, max(1, count)).round().astype(int))
        images = read_frames(info, index, spec)
    except DriveFileError as exc:
        raise AuditError(f"cannot read drive file {path}: {exc}") from exc
    return info.stamps[index], images

"""Drive recordings in the paper's HDF5 layout: one file per drive.

==================  ======================  =========================================
key                 shape / dtype           meaning
==================  ======================  =========================================
``camera_front``    N x H x W x 3, uint8    RGB frames: full camera frames or already
                    (any integer accepted)  preprocessed (out_height x out_width)
``timestamp``       N, float64              seconds (epoch or bag time)
``inverse_r``       N or N x 1, float       curvature driven, 1/m, positive = left
==================  ======================  =========================================

The writer streams frames (memory stays bounded) and writes atomically. h5py is an optional
dependency (``pip install ncp-driver[bags]``); it is imported when a function here is called.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver.atomic import partial_path, remove_stale_partials
from ncp_driver.errors import NcpDriverError

__all__ = ["FRAMES", "INVERSE_R", "TIMESTAMP", "DriveFileError", "DriveWriter", "write_drive"]

FRAMES = "camera_front"
TIMESTAMP = "timestamp"
INVERSE_R = "inverse_r"


class DriveFileError(NcpDriverError):
    """A drive file that is missing, malformed, or would be overwritten."""


def _h5py() -> Any:
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DriveFileError(
            "h5py is needed for drive files: pip install 'ncp-driver[bags]'"
        ) from exc
    return h5py


class DriveWriter:
    """Append frames, stamps and labels to a new drive file; ``close()`` makes it appear.

    Use as a context manager: on an exception the partial file is removed, so no half-written
    drive ever carries the final name.
    """

    def __init__(
        self,
        path: Path,
        frame_shape: tuple[int, int, int],
        force: bool = False,
        chunk_frames: int = 16,
    ):
        h5py = _h5py()
        self.path = Path(path)
        if self.path.exists() and not force:
            raise DriveFileError(f"{self.path} exists; pass force=True (--force) to overwrite it")
        if len(frame_shape) != 3 or frame_shape[2] != 3:
            raise DriveFileError(f"frames must be H x W x 3, got {frame_shape}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(self.path)
        self._tmp = partial_path(self.path)
        self._file = h5py.File(self._tmp, "w")
        h, w, c = frame_shape
        # Chunks of whole frames, at most ~4 MB (one full 1208 x 1920 frame is 7 MB): memory and
        # the HDF5 chunk cache stay small, and a frame reads as one chunk.
        per_chunk = max(1, min(chunk_frames, (4 << 20) // (h * w * c)))
        self._frames = self._file.create_dataset(
            FRAMES,
            shape=(0, h, w, c),
            maxshape=(None, h, w, c),
            dtype=np.uint8,
            chunks=(per_chunk, h, w, c),
        )
        self._stamps = self._file.create_dataset(
            TIMESTAMP, shape=(0,), maxshape=(None,), dtype=np.float64, chunks=(1024,)
        )
        self._labels = self._file.create_dataset(
            INVERSE_R, shape=(0, 1), maxshape=(None, 1), dtype=np.float32, chunks=(1024, 1)
        )
        self.count = 0

    def append(self, frame: np.ndarray, stamp: float, inverse_r: float) -> None:
        """Add one frame (H x W x 3 uint8), its stamp (s) and its curvature label (1/m)."""
        if frame.shape != self._frames.shape[1:] or frame.dtype != np.uint8:
            raise DriveFileError(
                f"{self.path}: frame {self.count} is {frame.shape} {frame.dtype}, expected {self._frames.shape[1:]} uint8"
            )
        n = self.count + 1
        self._frames.resize(n, axis=0)
        self._stamps.resize(n, axis=0)
        self._labels.resize(n, axis=0)
        self._frames[self.count] = frame
        self._stamps[self.count] = stamp
        self._labels[self.count, 0] = inverse_r
        self.count = n

    def set_attrs(self, **attrs: Any) -> None:
        """Store provenance (source bag, label source, ...) as HDF5 attributes."""
        for key, value in attrs.items():
            self._file.attrs[key] = value

    def close(self) -> Path:
        """Flush and rename the file to its final name."""
        self._file.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the partial file."""
        try:
            self._file.close()
        finally:
            self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> DriveWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_drive(
    path: Path,
    frames: Iterable[np.ndarray],
    stamps: Iterable[float],
    inverse_r: Iterable[float],
    force: bool = False,
    **attrs: Any,
) -> Path:
    """Write a whole drive from iterables (streamed); returns the final path."""
    iterator: Iterator[tuple[np.ndarray, float, float]] = iter(
        zip(frames, stamps, inverse_r, strict=True)
    )
    first = next(iterator, None)
    if first is None:
        raise DriveFileError(f"{path}: no frames to write")
    with DriveWriter(Path(path), first[0].shape, force=force) as writer:
        writer.set_attrs(**attrs)
        writer.append(*first)
        for frame, stamp, label in iterator:
            writer.append(frame, stamp, label)
    return Path(path)

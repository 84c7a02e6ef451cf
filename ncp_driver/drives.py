"""Drive recordings in the paper's HDF5 layout: one file per drive.

==================  ======================  =========================================
key                 shape / dtype           meaning
==================  ======================  =========================================
``camera_front``    N x H x W x 3, uint8    RGB frames: full camera frames or already
                    (any integer accepted)  preprocessed (out_height x out_width)
``timestamp``       N, float64              seconds (epoch or bag time)
``inverse_r``       N or N x 1, float       curvature driven, 1/m, positive = left
==================  ======================  =========================================

The writer streams frames (memory stays bounded) and writes atomically; the reader
(:func:`open_drive`, :func:`read_frames`) validates a file cheaply and reads frames on demand, for
training, the model card's validation error and the audit's saliency frames alike. h5py is an
optional dependency (``pip install ncp-driver[bags]``); it is imported when a function here is
called. Neither needs torch.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver.atomic import partial_path, remove_stale_partials
from ncp_driver.errors import (
    DriveDataError,
    DriveExistsError,
    DriveFileError,
    MissingDriveError,
    PreprocessingError,
)
from ncp_driver.preprocessing import PAPER_PREPROCESSING, Preprocessing, crop_and_resize

__all__ = [
    "DRIVE_SUFFIXES",
    "FRAMES",
    "INVERSE_R",
    "TIMESTAMP",
    "DriveDataError",
    "DriveFileError",
    "DriveInfo",
    "DriveWriter",
    "elapsed_times",
    "find_drive_files",
    "median_frame_period",
    "model_frames",
    "open_drive",
    "open_frames",
    "read_frames",
    "sequence_windows",
    "write_drive",
]

FRAMES = "camera_front"
TIMESTAMP = "timestamp"
INVERSE_R = "inverse_r"


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
            raise DriveExistsError(f"{self.path} exists; pass force=True (--force) to overwrite it")
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


DRIVE_SUFFIXES = (".h5", ".hdf5")
REQUIRED_KEYS = (FRAMES, TIMESTAMP, INVERSE_R)


@dataclass(frozen=True)
class DriveInfo:
    """A validated drive: its stamps (s) and labels (1/m) in memory, its frames on disk."""

    path: Path
    stamps: np.ndarray
    inverse_r: np.ndarray
    frame_shape: tuple[int, int, int]
    frame_dtype: str

    @property
    def length(self) -> int:
        return len(self.stamps)


def find_drive_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The drive files named by ``paths`` (files, or directories searched for *.h5 / *.hdf5)."""
    files: list[Path] = []
    given = [Path(p) for p in paths]
    if not given:
        raise MissingDriveError("no drive files or directories were given")
    for path in given:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in DRIVE_SUFFIXES and p.is_file())
            if not found:
                raise MissingDriveError(
                    f"{path}: no drive files ({', '.join('*' + s for s in DRIVE_SUFFIXES)}) in "
                    "this directory; write drives with `ncp-bag` or point at another directory"
                )
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise MissingDriveError(f"{path}: no such file or directory")
    return files


def _column(data: np.ndarray, path: Path, key: str) -> np.ndarray:
    if data.ndim == 2 and data.shape[1] == 1:
        data = data[:, 0]
    if data.ndim != 1:
        raise DriveDataError(f"{path}: key '{key}' has shape {data.shape}; expected (N,) or (N, 1)")
    return data


def _first_bad(values: np.ndarray) -> int:
    return int(np.flatnonzero(~np.isfinite(values))[0])


def open_drive(path: Path, preprocessing: Preprocessing = PAPER_PREPROCESSING) -> DriveInfo:
    """Validate one drive file and load its stamps and labels; raises :class:`DriveDataError`."""
    path = Path(path)
    h5py = _h5py()
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise DriveDataError(f"{path}: cannot be opened as HDF5 ({exc})") from exc
    with handle:
        missing = [key for key in REQUIRED_KEYS if key not in handle]
        if missing:
            raise DriveDataError(
                f"{path}: key '{missing[0]}' is missing (found {sorted(handle.keys())}); a drive "
                f"file needs {', '.join(REQUIRED_KEYS)} (see docs/training.md)"
            )
        frames = handle[FRAMES]
        if not isinstance(frames, h5py.Dataset):
            raise DriveDataError(f"{path}: key '{FRAMES}' is a group, not an array of frames")
        if frames.ndim != 4 or frames.shape[3] != 3:
            raise DriveDataError(
                f"{path}: key '{FRAMES}' has shape {frames.shape}; expected N x H x W x 3 (RGB)"
            )
        if frames.dtype.kind not in "ui":
            raise DriveDataError(
                f"{path}: key '{FRAMES}' has dtype {frames.dtype}; expected integer pixels "
                "(uint8, or any integer type holding 0..255)"
            )
        height, width = int(frames.shape[1]), int(frames.shape[2])
        if (height, width) != (preprocessing.out_height, preprocessing.out_width):
            try:
                preprocessing.crop_box(height, width)
            except PreprocessingError as exc:
                raise DriveDataError(f"{path}: key '{FRAMES}': {exc}") from exc
        try:
            stamps = _column(np.asarray(handle[TIMESTAMP][()], dtype=np.float64), path, TIMESTAMP)
            labels = _column(np.asarray(handle[INVERSE_R][()], dtype=np.float64), path, INVERSE_R)
        except (TypeError, ValueError) as exc:
            raise DriveDataError(f"{path}: timestamp or inverse_r is not numeric ({exc})") from exc
        count = int(frames.shape[0])
    if count == 0:
        raise DriveDataError(f"{path}: key '{FRAMES}' holds no frames")
    for key, values in ((TIMESTAMP, stamps), (INVERSE_R, labels)):
        if len(values) != count:
            raise DriveDataError(
                f"{path}: key '{key}' has {len(values)} entries but '{FRAMES}' has {count} "
                "frames; every frame needs one stamp and one label"
            )
        if not np.all(np.isfinite(values)):
            index = _first_bad(values)
            raise DriveDataError(
                f"{path}: key '{key}' holds a NaN or infinite value at index {index} "
                f"({values[index]}); fix or drop those frames"
            )
    return DriveInfo(
        path=path,
        stamps=stamps,
        inverse_r=labels.astype(np.float32),
        frame_shape=(height, width, 3),
        frame_dtype=str(frames.dtype),
    )


def sequence_windows(
    stamps: np.ndarray,
    length: int,
    stride: int,
    first: int = 0,
    stop: int | None = None,
    max_gap_s: float = 5.0,
) -> list[int]:
    """Start indices of ``length``-frame windows within ``[first, stop)``.

    A window is rejected when two consecutive stamps in it are ``max_gap_s`` or more apart,
    or when time runs backwards inside it.
    """
    stop = len(stamps) if stop is None else stop
    gaps = np.diff(stamps)
    bad = (gaps >= max_gap_s) | (gaps < 0)
    # bad_prefix[i] = number of bad gaps among gaps[:i]
    bad_prefix = np.concatenate([[0], np.cumsum(bad)])
    starts = []
    for start in range(first, stop - length + 1, stride):
        if bad_prefix[start + length - 1] - bad_prefix[start] == 0:
            starts.append(start)
    return starts


def median_frame_period(drives: Sequence[DriveInfo], default: float = 1.0 / 30.0) -> float:
    """The nominal camera period: the median positive stamp difference over ``drives``."""
    gaps = [np.diff(d.stamps) for d in drives if d.length > 1]
    values = np.concatenate(gaps) if gaps else np.empty(0)
    values = values[values > 0]
    return float(np.median(values)) if len(values) else default


def elapsed_times(stamps: np.ndarray, frame_period_s: float) -> np.ndarray:
    """Seconds since the previous frame, clamped to [0.1, 10] periods; the first gets one period."""
    elapsed = np.empty(len(stamps), dtype=np.float32)
    elapsed[0] = frame_period_s
    elapsed[1:] = np.clip(np.diff(stamps), 0.1 * frame_period_s, 10.0 * frame_period_s)
    return elapsed


def model_frames(raw: np.ndarray, spec: Preprocessing = PAPER_PREPROCESSING) -> np.ndarray:
    """Frames as stored (N x H x W x 3, any integer type) to the model's preprocessed uint8
    images: frames already of the model's input size pass unchanged."""
    if raw.dtype != np.uint8:
        raw = np.clip(raw, 0, 255).astype(np.uint8)
    if tuple(raw.shape[1:]) == spec.input_shape:
        return np.ascontiguousarray(raw)
    return np.stack([crop_and_resize(frame, spec) for frame in raw])


def open_frames(path: Path) -> Any:
    """The ``camera_front`` dataset of a drive file, open for reading (close its ``.file``)."""
    try:
        return _h5py().File(path, "r")[FRAMES]
    except OSError as exc:
        raise DriveDataError(f"{path}: cannot be read any more ({exc})") from exc


def read_frames(
    info: DriveInfo, index: slice | np.ndarray, spec: Preprocessing = PAPER_PREPROCESSING
) -> np.ndarray:
    """The frames ``index`` (a slice, or increasing indices) of a validated drive, preprocessed
    (:func:`model_frames`)."""
    frames = open_frames(info.path)
    try:
        raw = frames[index]
    except OSError as exc:
        raise DriveDataError(f"{info.path}: key '{FRAMES}' cannot be read ({exc})") from exc
    finally:
        frames.file.close()
    return model_frames(raw, spec)

"""Training sequences read lazily from drive files in the paper's HDF5 layout.

Opening a drive validates it cheaply: the stamps and labels are read in full and checked, the
frames only by shape and dtype. Frames are read per sequence when a batch asks for them, so
memory stays bounded however large the files are. Full camera frames go through
:func:`ncp_driver.preprocessing.crop_and_resize`, the function the car uses; frames already of
the model's input size pass unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch
from torch.utils.data import Dataset

from ncp_driver.drives import FRAMES, INVERSE_R, TIMESTAMP
from ncp_driver.errors import PreprocessingError
from ncp_driver.preprocessing import PAPER_PREPROCESSING, Preprocessing, crop_and_resize
from ncp_driver.training.augmentation import shadow
from ncp_driver.training.errors import DriveDataError

__all__ = [
    "DRIVE_SUFFIXES",
    "DriveInfo",
    "SequenceDataset",
    "Window",
    "elapsed_times",
    "find_drive_files",
    "median_frame_period",
    "open_drive",
    "sequence_windows",
]

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


@dataclass(frozen=True)
class Window:
    """``length`` consecutive frames of drive ``drive`` from ``start``."""

    drive: int
    start: int
    length: int


def find_drive_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The drive files named by ``paths`` (files, or directories searched for *.h5 / *.hdf5)."""
    files: list[Path] = []
    given = [Path(p) for p in paths]
    if not given:
        raise DriveDataError("no drive files or directories were given")
    for path in given:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in DRIVE_SUFFIXES and p.is_file())
            if not found:
                raise DriveDataError(
                    f"{path}: no drive files ({', '.join('*' + s for s in DRIVE_SUFFIXES)}) in "
                    "this directory; write drives with `ncp-bag` or point at another directory"
                )
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise DriveDataError(f"{path}: no such file or directory")
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


class SequenceDataset(Dataset[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]):
    """Windows of frames as ``(frames uint8 [T, h, w, 3], elapsed_s [T], target [T])``.

    ``target`` is inverse_r x ``target_scale``. With ``shadow_gamma`` > 0 every frame gets
    the shadow augmentation, seeded by (``seed``, epoch, index) so a run is reproducible.
    """

    def __init__(
        self,
        drives: Sequence[DriveInfo],
        windows: Sequence[Window],
        frame_period_s: float,
        preprocessing: Preprocessing = PAPER_PREPROCESSING,
        target_scale: float = 1000.0,
        shadow_gamma: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.drives = list(drives)
        self.windows = list(windows)
        self.frame_period_s = frame_period_s
        self.preprocessing = preprocessing
        self.target_scale = target_scale
        self.shadow_gamma = shadow_gamma
        self.seed = seed
        self.epoch = 0
        self._handles: dict[int, Any] = {}
        self._pid = os.getpid()

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.windows)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_handles"] = {}
        return state

    def _frames(self, drive: int) -> Any:
        if self._pid != os.getpid():  # a forked worker: never share HDF5 handles
            self._handles, self._pid = {}, os.getpid()
        if drive not in self._handles:
            path = self.drives[drive].path
            try:
                self._handles[drive] = h5py.File(path, "r")[FRAMES]
            except OSError as exc:
                raise DriveDataError(f"{path}: cannot be read any more ({exc})") from exc
        return self._handles[drive]

    def read_frames(self, window: Window) -> np.ndarray:
        """The window's frames, preprocessed to out_height x out_width x 3 uint8."""
        info = self.drives[window.drive]
        try:
            raw = self._frames(window.drive)[window.start : window.start + window.length]
        except OSError as exc:
            raise DriveDataError(f"{info.path}: key '{FRAMES}' cannot be read ({exc})") from exc
        if raw.dtype != np.uint8:
            raw = np.clip(raw, 0, 255).astype(np.uint8)
        if info.frame_shape == self.preprocessing.input_shape:
            return np.ascontiguousarray(raw)
        return np.stack([crop_and_resize(frame, self.preprocessing) for frame in raw])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        window = self.windows[index]
        info = self.drives[window.drive]
        frames = self.read_frames(window)
        if self.shadow_gamma > 0:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            frames = np.stack([shadow(frame, rng, self.shadow_gamma) for frame in frames])
        span = slice(window.start, window.start + window.length)
        elapsed = elapsed_times(info.stamps[span], self.frame_period_s)
        target = info.inverse_r[span] * np.float32(self.target_scale)
        return torch.from_numpy(frames), torch.from_numpy(elapsed), torch.from_numpy(target)

    def close(self) -> None:
        for dataset in self._handles.values():
            dataset.file.close()
        self._handles = {}

"""Training sequences read lazily from drive files in the paper's HDF5 layout.

The drive reader is :mod:`ncp_driver.drives` (no torch: the model card and the audit read drives
with it too): opening a drive validates it cheaply, frames are read per sequence when a batch
asks for them, so memory stays bounded however large the files are. Full camera frames go
through :func:`ncp_driver.preprocessing.crop_and_resize`, the function the car uses; frames
already of the model's input size pass unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from ncp_driver.drives import (
    FRAMES,
    DriveDataError,
    DriveInfo,
    elapsed_times,
    model_frames,
    open_frames,
)
from ncp_driver.preprocessing import PAPER_PREPROCESSING, Preprocessing
from ncp_driver.training.augmentation import shadow

__all__ = ["SequenceDataset", "Window"]


@dataclass(frozen=True)
class Window:
    """``length`` consecutive frames of drive ``drive`` from ``start``."""

    drive: int
    start: int
    length: int


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
            self._handles[drive] = open_frames(self.drives[drive].path)
        return self._handles[drive]

    def read_frames(self, window: Window) -> np.ndarray:
        """The window's frames, preprocessed to out_height x out_width x 3 uint8."""
        info = self.drives[window.drive]
        try:
            raw = self._frames(window.drive)[window.start : window.start + window.length]
        except OSError as exc:
            raise DriveDataError(f"{info.path}: key '{FRAMES}' cannot be read ({exc})") from exc
        return model_frames(raw, self.preprocessing)

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

"""VisualBackProp saliency of the model's conv head (Bojarski et al. 2016, as in the paper).

For each conv layer l, the activation maps A_l[c] (after the ReLU) are each divided by their
maximum and averaged over channels to M_l. From the deepest layer up, the running mask is
resized (bilinear, OpenCV) to the next shallower layer's size and multiplied into its M_l. The
result is resized to the input size and min-max normalised to [0, 1] per frame.

Here, in the replay layer, because ``ncp-replay`` publishes it in ``replay.mcap``
(:func:`saliency_overlay`); the audit's robustness analysis and figures build on it
(:mod:`ncp_driver.audit.saliency`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import matplotlib
import numpy as np

from ncp_driver.contract import INPUT_FRAME
from ncp_driver.errors import NcpDriverError
from ncp_driver.preprocessing import to_model_input
from ncp_driver.replay.errors import ReplayError
from ncp_driver.replay.subgraphs import head_graph, load_model, read_contract
from ncp_driver.runtime.config import PipelineConfig
from ncp_driver.runtime.model import open_session

__all__ = ["SaliencyModel", "overlay", "saliency_overlay", "visual_backprop"]

_CV_CHANNELS = 256  # OpenCV resizes up to 512 channels at once; stay well below


def _resize_stack(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize (B, h, w) maps to (B, *size) bilinearly."""
    height, width = size
    out = np.empty((maps.shape[0], height, width), dtype=np.float32)
    for start in range(0, maps.shape[0], _CV_CHANNELS):
        block = np.ascontiguousarray(maps[start : start + _CV_CHANNELS].transpose(1, 2, 0))
        resized = cv2.resize(block, (width, height), interpolation=cv2.INTER_LINEAR)
        out[start : start + _CV_CHANNELS] = resized.reshape(height, width, -1).transpose(2, 0, 1)
    return out


def _layer_mean(activation: np.ndarray) -> np.ndarray:
    """(B, C, h, w) -> (B, h, w): channel maps divided by their maximum, then averaged."""
    a = np.maximum(np.asarray(activation, dtype=np.float32), 0.0)
    if a.ndim != 4:
        raise ReplayError(f"expected a (batch, channels, h, w) activation, got shape {a.shape}")
    peak = a.max(axis=(2, 3), keepdims=True)
    scaled = np.divide(a, peak, out=np.zeros_like(a), where=peak > 0)
    return scaled.mean(axis=1)


def visual_backprop(
    activations: Sequence[np.ndarray], size: tuple[int, int] = (78, 200)
) -> np.ndarray:
    """Saliency masks (B, *size) in [0, 1] from conv activations listed shallowest first."""
    if not activations:
        raise ReplayError("VisualBackProp needs at least one conv layer's activation")
    means = [_layer_mean(a) for a in activations]
    mask = means[-1]
    for shallower in reversed(means[:-1]):
        mask = _resize_stack(mask, shallower.shape[1:]) * shallower
    mask = _resize_stack(mask, size)
    low = mask.min(axis=(1, 2), keepdims=True)
    span = mask.max(axis=(1, 2), keepdims=True) - low
    return np.divide(mask - low, span, out=np.zeros_like(mask), where=span > 0)


class SaliencyModel:
    """The model's conv head (``frame`` -> activations) in onnxruntime, for VisualBackProp."""

    def __init__(
        self,
        model_path: Path | str,
        config: PipelineConfig | None = None,
        batch_size: int = 32,
    ) -> None:
        model = load_model(model_path)
        self.contract = read_contract(model, source=str(model_path))
        head = head_graph(model)
        self.layer_names = head.activations
        self.batch_size = int(batch_size)
        try:
            self._session = open_session(
                head.model.SerializeToString(), config, source=f"the conv head of {model_path}"
            )
        except NcpDriverError as exc:
            raise ReplayError(
                f"onnxruntime cannot run the conv head of {model_path}: {exc}"
            ) from exc

    @property
    def input_size(self) -> tuple[int, int]:
        return (self.contract.preprocessing.out_height, self.contract.preprocessing.out_width)

    def _check(self, frames: np.ndarray) -> np.ndarray:
        frames = np.asarray(frames, dtype=np.float32)
        expected = self.contract.preprocessing.input_shape
        if frames.ndim != 4 or frames.shape[1:] != expected:
            raise ReplayError(f"expected frames of shape (N, {expected}), got {frames.shape}")
        return frames

    def activations(self, frames: np.ndarray) -> list[np.ndarray]:
        """Each conv layer's activation (N, C, h, w) for preprocessed frames (N, H, W, 3)."""
        frames = self._check(frames)
        parts: list[list[np.ndarray]] = [[] for _ in self.layer_names]
        for start in range(0, frames.shape[0], self.batch_size):
            outputs = self._session.run(
                list(self.layer_names), {INPUT_FRAME: frames[start : start + self.batch_size]}
            )
            for store, value in zip(parts, outputs, strict=True):
                store.append(np.asarray(value))
        return [np.concatenate(p) for p in parts]

    def saliency(self, frames: np.ndarray) -> np.ndarray:
        """VisualBackProp masks (N, H, W) in [0, 1] for preprocessed frames (N, H, W, 3)."""
        frames = self._check(frames)
        masks = [
            visual_backprop(self.activations(frames[s : s + self.batch_size]), self.input_size)
            for s in range(0, frames.shape[0], self.batch_size)
        ]
        if not masks:
            return np.zeros((0, *self.input_size), dtype=np.float32)
        return np.concatenate(masks)


def overlay(frame: np.ndarray, mask: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """An RGB uint8 image: ``frame`` (H, W, 3; uint8 or [0, 1]) blended with the mask (jet)."""
    image = np.asarray(frame)
    rgb = image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image.astype(np.float32)
    rgb = np.clip(rgb, 0.0, 1.0)
    if mask.shape != rgb.shape[:2]:
        raise ReplayError(f"mask {mask.shape} does not match frame {rgb.shape[:2]}")
    heat = matplotlib.colormaps["jet"](np.clip(mask, 0.0, 1.0))[..., :3].astype(np.float32)
    blend = (1.0 - alpha) * rgb + alpha * heat
    return np.round(blend * 255.0).astype(np.uint8)


def saliency_overlay(
    model_path: Path | str, config: PipelineConfig | None = None
) -> Callable[[np.ndarray], np.ndarray]:
    """crop (H, W, 3 uint8, the model's preprocessing) -> the crop blended with its saliency.

    What ``ncp-replay`` publishes as the saliency image topic of ``replay.mcap``.
    """
    model = SaliencyModel(model_path, config, batch_size=1)
    spec = model.contract.preprocessing

    def image(crop: np.ndarray) -> np.ndarray:
        mask = model.saliency(to_model_input(crop, spec)[None])[0]
        return overlay(crop, mask)

    return image

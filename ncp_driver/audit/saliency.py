"""VisualBackProp saliency from the exported ONNX model alone, and its robustness to noise.

VisualBackProp (Bojarski et al. 2016, as used in the paper): for each conv layer l, the
activation maps A_l[c] (after the ReLU) are each divided by their maximum and averaged over
channels to M_l. From the deepest layer up, the running mask is resized (bilinear, OpenCV) to
the next shallower layer's size and multiplied into its M_l. The result is resized to the
input size and min-max normalised to [0, 1] per frame.

Robustness: saliency maps of frames with Gaussian noise (std 0.1, 0.2, 0.25, 0.3 on the [0, 1]
image, seed 12345, the replay's :class:`~ncp_driver.replay.noise.InputNoise`) are compared with
the noise-free maps by SSIM (Wang et al. 2004: 11 x 11 Gaussian window, sigma 1.5, K1 0.01,
K2 0.03, data range 1, mean over the map without the 5-pixel border).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import matplotlib
import numpy as np
from matplotlib.figure import Figure

from ncp_driver.audit.errors import AuditError
from ncp_driver.audit.figures import new_figure
from ncp_driver.contract import INPUT_FRAME
from ncp_driver.errors import NcpDriverError
from ncp_driver.replay.noise import PAPER_NOISE_LEVELS, PAPER_NOISE_SEED, InputNoise
from ncp_driver.replay.subgraphs import head_graph, load_model, read_contract
from ncp_driver.runtime.config import PipelineConfig
from ncp_driver.runtime.model import open_session

__all__ = [
    "NoiseRobustness",
    "SaliencyModel",
    "overlay",
    "plot_noise_robustness",
    "plot_saliency_overlays",
    "saliency_noise_robustness",
    "ssim",
    "ssim_map",
    "visual_backprop",
]

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
        raise AuditError(f"expected a (batch, channels, h, w) activation, got shape {a.shape}")
    peak = a.max(axis=(2, 3), keepdims=True)
    scaled = np.divide(a, peak, out=np.zeros_like(a), where=peak > 0)
    return scaled.mean(axis=1)


def visual_backprop(
    activations: Sequence[np.ndarray], size: tuple[int, int] = (78, 200)
) -> np.ndarray:
    """Saliency masks (B, *size) in [0, 1] from conv activations listed shallowest first."""
    if not activations:
        raise AuditError("VisualBackProp needs at least one conv layer's activation")
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
            raise AuditError(
                f"onnxruntime cannot run the conv head of {model_path}: {exc}"
            ) from exc

    @property
    def input_size(self) -> tuple[int, int]:
        return (self.contract.preprocessing.out_height, self.contract.preprocessing.out_width)

    def _check(self, frames: np.ndarray) -> np.ndarray:
        frames = np.asarray(frames, dtype=np.float32)
        expected = self.contract.preprocessing.input_shape
        if frames.ndim != 4 or frames.shape[1:] != expected:
            raise AuditError(f"expected frames of shape (N, {expected}), got {frames.shape}")
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


def ssim_map(
    a: np.ndarray,
    b: np.ndarray,
    data_range: float = 1.0,
    sigma: float = 1.5,
    window: int = 11,
    k1: float = 0.01,
    k2: float = 0.03,
) -> np.ndarray:
    """The local SSIM of two grey images (Wang et al. 2004), without the half-window border."""
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 2:
        raise AuditError(f"SSIM needs two equal 2-D images, got {x.shape} and {y.shape}")
    if min(x.shape) < window:
        raise AuditError(f"images {x.shape} are smaller than the {window}-pixel SSIM window")

    def blur(image: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(image, (window, window), sigma, borderType=cv2.BORDER_REFLECT)

    c1 = (k1 * data_range) ** 2
    c2 = (k2 * data_range) ** 2
    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    local = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    )
    pad = (window - 1) // 2
    return local[pad:-pad, pad:-pad]


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 1.0) -> float:
    """Mean SSIM of two grey images in ``[0, data_range]``: 1 for identical images."""
    return float(np.mean(ssim_map(a, b, data_range=data_range)))


@dataclass(frozen=True)
class NoiseRobustness:
    """SSIM of noisy-input saliency maps against the noise-free ones, per noise level."""

    levels: tuple[float, ...]
    ssim: np.ndarray  # (levels, frames)
    seed: int

    def mean(self) -> np.ndarray:
        return self.ssim.mean(axis=1)

    def std(self) -> np.ndarray:
        return self.ssim.std(axis=1)

    def to_dict(self) -> dict[str, object]:
        return {
            "levels": list(self.levels),
            "seed": self.seed,
            "frames": int(self.ssim.shape[1]),
            "ssim_mean": [float(v) for v in self.mean()],
            "ssim_std": [float(v) for v in self.std()],
        }


def saliency_noise_robustness(
    model: SaliencyModel,
    frames: np.ndarray,
    levels: Sequence[float] = PAPER_NOISE_LEVELS,
    seed: int = PAPER_NOISE_SEED,
    clean: np.ndarray | None = None,
) -> NoiseRobustness:
    """SSIM(saliency(frame + noise), saliency(frame)) per level and frame."""
    frames = np.asarray(frames, dtype=np.float32)
    reference = model.saliency(frames) if clean is None else clean
    scores = np.empty((len(levels), frames.shape[0]))
    for row, level in enumerate(levels):
        noise = InputNoise(level, seed=seed)
        start = 0
        while start < frames.shape[0]:  # one generator per level, drawn in frame order
            stop = start + model.batch_size
            noisy = model.saliency(noise(frames[start:stop]))
            for i in range(noisy.shape[0]):
                scores[row, start + i] = ssim(reference[start + i], noisy[i])
            start = stop
    return NoiseRobustness(levels=tuple(float(v) for v in levels), ssim=scores, seed=seed)


def overlay(frame: np.ndarray, mask: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """An RGB uint8 image: ``frame`` (H, W, 3; uint8 or [0, 1]) blended with the mask (jet)."""
    image = np.asarray(frame)
    rgb = image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image.astype(np.float32)
    rgb = np.clip(rgb, 0.0, 1.0)
    if mask.shape != rgb.shape[:2]:
        raise AuditError(f"mask {mask.shape} does not match frame {rgb.shape[:2]}")
    heat = matplotlib.colormaps["jet"](np.clip(mask, 0.0, 1.0))[..., :3].astype(np.float32)
    blend = (1.0 - alpha) * rgb + alpha * heat
    return np.round(blend * 255.0).astype(np.uint8)


def plot_saliency_overlays(
    frames: np.ndarray,
    masks: np.ndarray,
    labels: Sequence[str] | None = None,
    columns: int = 2,
) -> Figure:
    """A grid of frames with their saliency overlaid (each cell: frame left, overlay right)."""
    count = int(frames.shape[0])
    if count == 0:
        raise AuditError("no frames to draw")
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    fig = new_figure(6.0 * columns, 1.35 * rows + 0.4)
    axes = fig.subplots(rows, 2 * columns, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for i in range(count):
        r, c = divmod(i, columns)
        raw = frames[i] if frames.dtype == np.uint8 else np.clip(frames[i], 0.0, 1.0)
        axes[r, 2 * c].imshow(raw)
        axes[r, 2 * c + 1].imshow(overlay(frames[i], masks[i]))
        if labels is not None:
            axes[r, 2 * c].set_title(labels[i], fontsize=8, loc="left")
    return fig


def plot_noise_robustness(
    result: NoiseRobustness, takeovers: Mapping[float, int] | None = None
) -> Figure:
    """Mean SSIM (+- std) per noise level; takeovers per level beside it when given."""
    fig = new_figure(7.0, 4.0)
    ax = fig.subplots()
    levels = np.asarray(result.levels)
    ax.errorbar(levels, result.mean(), yerr=result.std(), fmt="o-", capsize=3, label="SSIM")
    ax.set_xlabel("input noise std ([0, 1] image)")
    ax.set_ylabel("saliency SSIM vs noise-free")
    ax.set_ylim(min(0.0, float(np.min(result.mean() - result.std(), initial=0.0))), 1.05)
    if takeovers:
        twin = ax.twinx()
        keys = sorted(takeovers)
        twin.bar(
            keys,
            [takeovers[k] for k in keys],
            width=0.02,
            alpha=0.4,
            color="tab:red",
            label="takeovers",
        )
        twin.set_ylabel("takeovers", color="tab:red")
    ax.set_title(f"Saliency robustness to input noise ({result.ssim.shape[1]} frames)")
    return fig

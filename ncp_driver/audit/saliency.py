"""VisualBackProp saliency from the exported ONNX model alone, and its robustness to noise.

The saliency itself (:func:`visual_backprop`, :class:`SaliencyModel`, :func:`overlay`) lives in
:mod:`ncp_driver.replay.saliency`, where ``ncp-replay`` draws it into ``replay.mcap``; it is
re-exported here with the robustness analysis and the figures.

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

import cv2
import numpy as np
from matplotlib.figure import Figure

from ncp_driver.audit.errors import AuditError
from ncp_driver.audit.figures import new_figure
from ncp_driver.replay.noise import PAPER_NOISE_LEVELS, PAPER_NOISE_SEED, InputNoise
from ncp_driver.replay.saliency import SaliencyModel, overlay, saliency_overlay, visual_backprop

__all__ = [
    "NoiseRobustness",
    "SaliencyModel",
    "overlay",
    "plot_noise_robustness",
    "plot_saliency_overlays",
    "saliency_noise_robustness",
    "saliency_overlay",
    "ssim",
    "ssim_map",
    "visual_backprop",
]


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

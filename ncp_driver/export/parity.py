"""Torch versus onnxruntime over a carried sequence: each side carries its own state."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ncp_driver.contract import (
    INPUT_ELAPSED,
    INPUT_FRAME,
    INPUT_STATE,
    OUTPUT_CURVATURE,
    OUTPUT_FEATURES,
    OUTPUT_NEURONS,
    OUTPUT_STATE,
    ModelContract,
)
from ncp_driver.runtime.config import PipelineConfig
from ncp_driver.runtime.model import open_session
from ncp_driver.training.networks import SteeringNetwork

__all__ = ["ParityResult", "parity_frames", "run_parity"]


@dataclass(frozen=True)
class ParityResult:
    """Largest differences per output over the sequence.

    ``per_output`` holds the largest absolute difference; ``scaled`` the same divided by
    max(1, largest |torch value|) of that output, i.e. absolute for outputs within [-1, 1]
    (curvature, LTC potentials) and relative for larger ones (conv features).
    """

    frames: int
    per_output: dict[str, float]
    scaled: dict[str, float]

    @property
    def max_abs_diff(self) -> float:
        return max(self.per_output.values())

    @property
    def max_scaled_diff(self) -> float:
        return max(self.scaled.values())


def parity_frames(
    count: int, shape: tuple[int, int, int], seed: int = 0
) -> tuple[np.ndarray, np.ndarray, float]:
    """A reproducible test drive: smooth moving images in [0, 1] plus noise, and elapsed times.

    Returns frames [count, H, W, 3] float32, elapsed [count] in nominal periods (jitter of
    +-10 % and a dropped frame, 2 periods, every 50th frame), and the frame period used (1.0).
    """
    rng = np.random.default_rng(seed)
    height, width, _ = shape
    ys = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    xs = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :, None]
    colour = np.array([0.9, 0.6, 0.3], dtype=np.float32)[None, None, :]
    frames = np.empty((count, height, width, 3), dtype=np.float32)
    for i in range(count):
        phase = 0.15 * i
        base = 0.5 + 0.3 * np.sin(6.0 * xs + phase) * np.cos(3.0 * ys - 0.5 * phase) * colour
        noise = rng.normal(0.0, 0.05, size=(height, width, 3)).astype(np.float32)
        frames[i] = np.clip(base + noise, 0.0, 1.0)
    elapsed = (1.0 + rng.uniform(-0.1, 0.1, size=count)).astype(np.float32)
    elapsed[7::50] = 2.0
    return frames, elapsed, 1.0


def run_parity(
    model: SteeringNetwork,
    onnx_path: Path,
    contract: ModelContract,
    frames: int = 200,
    seed: int = 0,
) -> ParityResult:
    """Step ``model`` and the ONNX file frame by frame over ``frames`` frames; compare outputs."""
    session = open_session(onnx_path, PipelineConfig())  # the car's settings: CPU, one thread
    images, periods, _ = parity_frames(frames, contract.preprocessing.input_shape, seed)
    elapsed_s = (periods * np.float32(model.frame_period_s)).astype(np.float32)
    names = list(contract.output_names())
    worst = dict.fromkeys(names, 0.0)
    magnitude = dict.fromkeys(names, 0.0)
    ort_state = np.zeros((1, contract.state_size), dtype=np.float32)
    torch_state = torch.zeros(1, contract.state_size)
    model = model.eval()
    for i in range(frames):
        frame = images[i : i + 1]
        elapsed = elapsed_s[i : i + 1].reshape(1, 1)
        feeds = {INPUT_FRAME: frame}
        if contract.stateful:
            feeds[INPUT_STATE] = ort_state
            feeds[INPUT_ELAPSED] = elapsed
        ort_out = dict(zip(names, session.run(names, feeds), strict=True))
        with torch.no_grad():
            curvature, new_state, neurons, features = model.step(
                torch.from_numpy(frame), torch_state, torch.from_numpy(elapsed)
            )
        torch_out = {
            OUTPUT_CURVATURE: curvature.numpy(),
            OUTPUT_STATE: new_state.numpy(),
            OUTPUT_NEURONS: neurons.numpy(),
            OUTPUT_FEATURES: features.numpy(),
        }
        for name in names:
            reference = torch_out[name]
            diff = float(np.max(np.abs(ort_out[name] - reference), initial=0.0))
            worst[name] = max(worst[name], diff)
            magnitude[name] = max(magnitude[name], float(np.max(np.abs(reference), initial=0.0)))
        if contract.stateful:
            ort_state = ort_out["state_out"]
            torch_state = new_state
    scaled = {name: worst[name] / max(1.0, magnitude[name]) for name in names}
    return ParityResult(frames=frames, per_output=worst, scaled=scaled)

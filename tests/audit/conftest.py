"""Fixtures of the audit tests: real exported models and a replay made by running one."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from ncp_driver.audit.replay import NEURONS_FILE, SENSORY_FILE, load_replay
from ncp_driver.audit.sample import SampleDrive, write_sample_replay

FRAME_PERIOD_S = 0.1


def export_model(kind: str, path: Path) -> Path:
    """A freshly initialised model of ``kind`` exported by the project's exporter."""
    networks = pytest.importorskip("ncp_driver.training.networks")
    export = pytest.importorskip("ncp_driver.export")
    model = networks.build_model(kind=kind, seed=7, frame_period_s=FRAME_PERIOD_S)
    export.export_onnx(model, path, check=False)
    return path


@pytest.fixture(scope="session")
def ncp_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_model("ncp", tmp_path_factory.mktemp("ncp") / "ncp.onnx")


@pytest.fixture(scope="session")
def lstm_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_model("lstm", tmp_path_factory.mktemp("lstm") / "lstm.onnx")


def road_frames(count: int, seed: int = 0) -> np.ndarray:
    """Preprocessed-looking frames (N, 78, 200, 3) in [0, 1]: a road that bends, and noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:78, 0:200].astype(np.float32)
    frames = np.empty((count, 78, 200, 3), dtype=np.float32)
    for i in range(count):
        centre = 100 + 40 * np.sin(i / 6.0) * (78 - y) / 78
        road = (np.abs(x - centre) < 25 + 0.4 * y).astype(np.float32)
        base = 0.25 + 0.45 * road + 0.2 * (y / 78)
        frames[i] = np.clip(base[..., None] + rng.normal(0, 0.03, (78, 200, 3)), 0, 1)
    return frames


@pytest.fixture(scope="session")
def make_frames() -> Callable[..., np.ndarray]:
    """The frame generator, for tests that need frames of their own."""
    return road_frames


@dataclass(frozen=True)
class ReplayedDrive:
    directory: Path
    frames: np.ndarray
    neurons: np.ndarray
    features: np.ndarray
    model: Path


def _write_trace(path: Path, stamp: np.ndarray, prefix: str, values: np.ndarray) -> None:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["stamp"] + [f"{prefix}{k}" for k in range(values.shape[1])])
        for t, row in zip(stamp, values, strict=True):
            writer.writerow([f"{t:.6f}"] + [repr(float(v)) for v in row])


@pytest.fixture(scope="session")
def replayed(tmp_path_factory: pytest.TempPathFactory, ncp_model: Path) -> ReplayedDrive:
    """A replay directory whose neurons.csv and sensory.csv come from running the real model.

    The model is stepped as the replay does: zero state at the start and at each reset, the
    stamp difference as elapsed_s (the nominal period after a reset).
    """
    directory = tmp_path_factory.mktemp("replayed") / "drive"
    write_sample_replay(directory, SampleDrive(frames=48, rate_hz=10.0), model=str(ncp_model))
    replay = load_replay(directory)
    frames = road_frames(replay.frames)
    session = ort.InferenceSession(str(ncp_model), providers=["CPUExecutionProvider"])
    state = np.zeros((1, 19), dtype=np.float32)
    neurons, features = [], []
    for i in range(replay.frames):
        reset = i == 0 or bool(replay.reset_reason[i])
        if reset:
            state = np.zeros_like(state)
        elapsed = FRAME_PERIOD_S if reset else replay.stamp[i] - replay.stamp[i - 1]
        _, state, n, f = session.run(
            None,
            {
                "frame": frames[i : i + 1],
                "state": state,
                "elapsed_s": np.array([[elapsed]], dtype=np.float32),
            },
        )
        neurons.append(n[0])
        features.append(f[0])
    neuron_values, feature_values = np.array(neurons), np.array(features)
    _write_trace(directory / NEURONS_FILE, replay.stamp, "n", neuron_values)
    _write_trace(directory / SENSORY_FILE, replay.stamp, "f", feature_values)
    return ReplayedDrive(directory, frames, neuron_values, feature_values, ncp_model)

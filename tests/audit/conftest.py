"""Fixtures of the audit tests: real exported models and a replay made by running one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from ncp_driver.audit.replay import load_replay

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
    neurons: np.ndarray
    features: np.ndarray
    model: Path


@pytest.fixture(scope="session")
def replayed(replay_factory: Callable[..., Path], ncp_model: Path) -> ReplayedDrive:
    """A replay of the synthetic drive by ``ncp-replay`` with the freshly exported NCP: its
    neurons.csv and sensory.csv are what the real pipeline computed."""
    directory = replay_factory("ncp-model", model=ncp_model, noise=())
    replay = load_replay(directory)
    assert replay.neurons is not None and replay.sensory is not None
    return ReplayedDrive(directory, replay.neurons.values, replay.sensory.values, ncp_model)

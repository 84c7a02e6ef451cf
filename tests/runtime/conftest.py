"""Model files for the runtime tests: small contract-following ONNX models built on the spot."""

from __future__ import annotations

from pathlib import Path

import pytest
from runtime_models import ToyWeights, save, toy_model


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def toy_path(model_dir: Path) -> Path:
    """The recurrent toy (8 states, 32 features, the paper's preprocessing)."""
    return save(toy_model(ToyWeights.make()), model_dir / "toy.onnx")


@pytest.fixture(scope="session")
def nan_path(model_dir: Path) -> Path:
    """The toy whose outputs and state are NaN when the frame's mean exceeds 0.6."""
    return save(toy_model(ToyWeights.make(), nan_above=0.6), model_dir / "toy_nan.onnx")


@pytest.fixture(scope="session")
def cnn_path(model_dir: Path) -> Path:
    """A stateless (kind cnn) toy."""
    return save(toy_model(ToyWeights.make(), kind="cnn"), model_dir / "toy_cnn.onnx")

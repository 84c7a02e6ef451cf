"""Fixtures of the closed-loop tests: tiny contract models (from tests/runtime); the small
settings are in sim_helpers.py. Each drive takes a second or two."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

RUNTIME_TESTS = Path(__file__).resolve().parents[1] / "runtime"
if str(RUNTIME_TESTS) not in sys.path:
    sys.path.insert(0, str(RUNTIME_TESTS))

from runtime_models import ToyWeights, save, toy_model  # noqa: E402


@pytest.fixture(scope="session")
def zero_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A contract-following model whose curvature is always 0 (its readout weights are 0)."""
    w = ToyWeights.make()
    zero = ToyWeights(w.wf, w.bf, w.a, w.b, np.zeros_like(w.c))
    return save(toy_model(zero), tmp_path_factory.mktemp("zero") / "zero.onnx")


@pytest.fixture(scope="session")
def toy_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A contract-following toy whose curvature depends on the image (its mean colour)."""
    w = ToyWeights.make(seed=3)
    scaled = ToyWeights(w.wf, w.bf, w.a, w.b, w.c * 0.01)
    return save(toy_model(scaled), tmp_path_factory.mktemp("toy") / "toy.onnx")


@pytest.fixture(scope="session")
def no_contract_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid ONNX graph without the model contract's metadata: the pipeline refuses it."""
    return save(toy_model(metadata=False), tmp_path_factory.mktemp("bad") / "nometa.onnx")

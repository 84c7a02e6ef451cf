"""Fixtures of the closed-loop tests: tiny contract models (from tests/runtime) and small settings.

Frames are 120 x 192 rendered at full scale (the crop is relative, so the paper's band is
used), roads a few hundred metres: each drive takes a second or two.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

RUNTIME_TESTS = Path(__file__).resolve().parents[1] / "runtime"
if str(RUNTIME_TESTS) not in sys.path:
    sys.path.insert(0, str(RUNTIME_TESTS))

from runtime_models import ToyWeights, save, toy_model  # noqa: E402

from ncp_driver.sim import SimSettings  # noqa: E402

SMALL = {"height": 120, "width": 192, "render_scale": 1.0, "compute_s": 0.005}
SMALL_ARGS = ["--size", "120x192", "--render-scale", "1", "--compute-delay", "0.005"]


def small_settings(**overrides: object) -> SimSettings:
    values: dict[str, object] = {"roads": 1, "road_m": 300.0, **SMALL}
    values.update(overrides)
    return SimSettings(**values)  # type: ignore[arg-type]


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

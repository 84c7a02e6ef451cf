"""Fixtures of the fleet tests: four small synthetic drives (one with a dark stretch), the
reference model and its grafted candidates, written once per session."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from fleet_helpers import darken, drive_config, graft, reference

from ncp_driver.synth import simulate_drive, write_ros2_bag


@pytest.fixture(scope="session")
def drives_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of drives: three plain ones (seeds 1-3) and ``tunnel`` (seed 4, dark stretch)."""
    root = tmp_path_factory.mktemp("fleet") / "drives"
    root.mkdir()
    scratch = tmp_path_factory.mktemp("fleet_scratch")
    for seed in (1, 2, 3):
        write_ros2_bag(simulate_drive(drive_config(seed)), root / f"drive{seed}")
    plain = write_ros2_bag(simulate_drive(drive_config(4)), scratch / "plain").path
    darken(plain, root / "tunnel")
    return root


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``reference``; ``same`` (a byte copy); ``biased`` (readout bias +0.05 1/m); ``dark``
    (a bump only on dark frames)."""
    root = tmp_path_factory.mktemp("fleet_models")
    ref = reference()
    files = {
        "reference": ref,
        "same": ref,
        "biased": graft(ref, bias=0.05),
        "dark": graft(ref, dark_below=0.15, gain=1.0),
    }
    out = {}
    for name, model in files.items():
        path = root / f"{name}.onnx"
        onnx.save(model, str(path))
        out[name] = path
    return out

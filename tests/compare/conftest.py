"""Fixtures of the comparison tests: freshly initialised models exported by the project's
exporter (the paper's conv head with an NCP, and the feed-forward CNN), and one small
``ncp-compare`` run over them that several tests read (compare_helpers.py has the settings)."""

from __future__ import annotations

from pathlib import Path

import pytest
from compare_helpers import SMALL, Compared, export_model, run_compare


@pytest.fixture(scope="session")
def ncp_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_model("ncp", tmp_path_factory.mktemp("ncp") / "ncp.onnx")


@pytest.fixture(scope="session")
def cnn_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_model("cnn", tmp_path_factory.mktemp("cnn") / "cnn.onnx")


@pytest.fixture(scope="session")
def compared(tmp_path_factory: pytest.TempPathFactory, ncp_onnx: Path, cnn_onnx: Path) -> Compared:
    """``ncp-compare`` on the NCP and the CNN with generated drives, driving the closed loop."""
    out = tmp_path_factory.mktemp("compare") / "out"
    run = run_compare("--model", ncp_onnx, "--model", cnn_onnx, "--out", out, *SMALL)
    assert run.code == 0, run.err
    return Compared(out, run)

"""Fixtures of the comparison tests: freshly initialised models exported by the project's
exporter (the paper's conv head with an NCP, and the feed-forward CNN), and one small
``ncp-compare`` run over them that several tests read (120 x 192 frames, short drives and
roads, two noise levels: seconds, not minutes)."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from ncp_driver.compare.cli import main

# Two generated drives of 24 s (two folds of one), one 200 m road per noise level.
SMALL = [
    "--size", "120x192", "--render-scale", "1", "--compute-delay", "0.005",
    "--drive-s", "24", "--folds", "2", "--drives-per-fold", "1",
    "--roads", "1", "--road-m", "200", "--noise-std", "0", "0.2",
    "--saliency-frames", "4", "--lipschitz-frames", "8", "--latency-runs", "5",
    "--jobs", "1", "--no-progress",
]  # fmt: skip


def export_model(kind: str, path: Path) -> Path:
    """A freshly initialised model of ``kind`` exported by the project's exporter."""
    networks = pytest.importorskip("ncp_driver.training.networks")
    export = pytest.importorskip("ncp_driver.export")
    model = networks.build_model(kind=kind, seed=7, frame_period_s=1.0 / 15.0)
    export.export_onnx(model, path, check=False)
    return path


@pytest.fixture(scope="session")
def ncp_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_model("ncp", tmp_path_factory.mktemp("ncp") / "ncp.onnx")


@pytest.fixture(scope="session")
def cnn_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_model("cnn", tmp_path_factory.mktemp("cnn") / "cnn.onnx")


@dataclass(frozen=True)
class Run:
    """What a console script did: its status, stdout and stderr."""

    code: int
    out: str
    err: str


def run_compare(*args: object) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return Run(code, out.getvalue(), err.getvalue())


@dataclass(frozen=True)
class Compared:
    out: Path
    run: Run


@pytest.fixture(scope="session")
def compared(tmp_path_factory: pytest.TempPathFactory, ncp_onnx: Path, cnn_onnx: Path) -> Compared:
    """``ncp-compare`` on the NCP and the CNN with generated drives, driving the closed loop."""
    out = tmp_path_factory.mktemp("compare") / "out"
    run = run_compare("--model", ncp_onnx, "--model", cnn_onnx, "--out", out, *SMALL)
    assert run.code == 0, run.err
    return Compared(out, run)

"""Helpers of the comparison tests: the small settings (120 x 192 frames, short drives and
roads, two noise levels: seconds, not minutes), exporting a freshly initialised model, and
running ``ncp-compare`` in-process."""

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

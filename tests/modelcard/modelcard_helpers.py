"""Tiny models made the way the committed ones are: the spec's own commands, run for real.

Each fixture runs a spec's ``ncp-synth`` commands (3 s drives of 302 x 480 frames, one with 2
recovery views), its ``ncp-train`` command (1 epoch of 1 batch), ``ncp-export`` and
``modelcard write`` in a temporary folder: seconds per kind, not minutes.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

EPOCHS, LR = 1, 1e-3


def tiny_spec(kind: str) -> dict[str, Any]:
    """A spec shaped like models/<kind>_synthetic.spec.json, sized for a test."""
    synth = "ncp-synth --seed SEED --format h5 --preprocessed --size 302x480 --duration 3"
    sim = {"compute_s": 0.005, "height": 302, "width": 480}
    return {
        "training": {
            "command": f"ncp-train --train drives/train --val drives/val --kind {kind} "
            "--epochs {epochs} --lr {lr} --batch-size 2 --max-batches 1 --readout-init "
            "labels --stride 16 --seed 20190120 --out runs --no-progress",
            "machine": "the test's machine",
            "data": {
                "train": {
                    "command": f"{synth} --out drives/train/sSEED.h5 --takeovers 0 "
                    "--recovery-offsets 0.5",
                    "seeds": [100],
                    "views_per_drive": 2,
                },
                "val": {
                    "command": f"{synth} --out drives/val/sSEED.h5 --takeovers 0",
                    "seeds": [200],
                },
            },
            "departures": [
                {"field": "epochs", "what": "{epochs} epoch (paper: 200)", "why": "a test"},
                {"field": "lr", "what": "learning rate {lr:g} (paper: 5e-4)", "why": "a test"},
                {"field": "batch_size", "what": "batches of {batch_size}", "why": "a test"},
                {"field": "max_batches", "what": "{max_batches} batch an epoch", "why": "a test"},
                {"field": "readout_init", "what": "readout from the labels", "why": "a test"},
                {"field": "data", "what": "recovery views beside each drive", "why": "to recover"},
            ],
        },
        "notes": ["A tiny model: its figures mean nothing."],
        "replay_drive": {
            "seed": 7,
            "duration_s": 4,
            "takeovers": 0,
            "compressed": True,
            "size": [302, 480],
            "command": "a tiny drive",
        },
        "closed_loop": {
            "command": "ncp-sim (a short road)",
            "settings": {"roads": 1, "road_m": 40, "seed": 300, "noise_levels": [0, 0.1], **sim},
        },
        "closed_loop_held_out": {
            "command": "ncp-sim (two more roads)",
            "settings": {"roads": 2, "road_m": 30, "seed": 400, "noise_levels": [0], **sim},
        },
    }


@contextlib.contextmanager
def inside(folder: Path) -> Iterator[None]:
    """Run the spec's relative paths (drives/train, runs, models) inside ``folder``."""
    here = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(here)


@dataclass(frozen=True)
class TinyRun:
    """A trained and exported tiny model, its checkpoint and spec (no card yet)."""

    folder: Path
    checkpoint: Path
    model: Path
    spec: dict[str, Any]

    @property
    def card(self) -> Path:
        return self.model.with_suffix(".card.json")

    def spec_copy(self) -> dict[str, Any]:
        return copy.deepcopy(self.spec)


def train_tiny(kind: str, folder: Path) -> TinyRun:
    pytest.importorskip("torch")
    import torch

    from ncp_driver.export.cli import main as export
    from ncp_driver.synth.cli import main as synth
    from ncp_driver.training.cli import main as train

    torch.set_num_threads(1)
    spec = tiny_spec(kind)
    with inside(folder):
        for role in ("train", "val"):
            block = spec["training"]["data"][role]
            for seed in block["seeds"]:
                argv = shlex.split(block["command"].replace("SEED", str(seed)))[1:]
                assert synth([*argv, "--no-progress"]) == 0
        command = spec["training"]["command"].format(epochs=EPOCHS, lr=LR)
        assert train(shlex.split(command)[1:]) == 0
        (run,) = Path("runs").iterdir()
        checkpoint = folder / run / "checkpoints" / "epoch-0001.pt"
        model = folder / "models" / f"{kind}_synthetic.onnx"
        assert export([str(checkpoint), "-o", str(model), "--no-check"]) == 0
    (folder / "spec.json").write_text(json.dumps(spec))
    return TinyRun(folder, checkpoint, model, spec)

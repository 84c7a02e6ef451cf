"""Training on a mix of normal and recovery drives written by ``ncp-synth`` (one tiny epoch)."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from ncp_driver.synth.cli import main as synth
from ncp_driver.training import cli
from ncp_driver.training.runs import read_log

torch.set_num_threads(1)

SMALL = ["--duration", "4", "--takeovers", "0", "--size", "60x96", "--preprocessed"]


def test_ncp_trains_on_normal_and_recovery_drives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train, val = tmp_path / "train", tmp_path / "val"
    common = ["--format", "h5", "--no-progress", *SMALL]
    assert synth(["--out", str(train / "d1.h5"), "--seed", "1", "--recovery-offsets", "0.6",
                  "--recovery-yaw", "4", *common]) == 0  # fmt: skip
    assert synth(["--out", str(val / "d2.h5"), "--seed", "2", *common]) == 0
    files = sorted(train.glob("*.h5"))
    assert len(files) == 9  # the drive and its eight recovery views
    labels = [h5py.File(f)["inverse_r"][()].ravel() for f in files]
    assert np.ptp([lab.mean() for lab in labels]) > 0.005  # the views steer differently
    capsys.readouterr()
    out = tmp_path / "runs"
    code = cli.main(
        ["--train", str(train), "--val", str(val), "--out", str(out), "--kind", "ncp",
         "--epochs", "1", "--batch-size", "2", "--max-batches", "1", "--seq-len", "16",
         "--no-progress"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert "epoch 1/1: train loss" in capsys.readouterr().out
    (run,) = out.iterdir()
    log = read_log(run)
    assert len(log) == 1 and np.isfinite(log[0]["train_loss"]) and np.isfinite(log[0]["val_loss"])
    config = json.loads((run / "config.json").read_text())
    assert config["train_files"] == [str(f) for f in files]  # every view was trained on
    assert config["train_sequences"] == 9 * 3  # 60 frames: three 16-frame sequences each

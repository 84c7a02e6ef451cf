"""The generator's HDF5 (``ncp-synth --format h5 --preprocessed``) trains with the training command."""

from __future__ import annotations

import json
import math
from pathlib import Path

import h5py
import numpy as np
import pytest

from ncp_driver.synth import cli as synth_cli

torch = pytest.importorskip("torch")

from ncp_driver.training.runs import load_checkpoint, read_log  # noqa: E402
from ncp_driver.training.train import TrainConfig, train  # noqa: E402


def synth(out: Path, seed: int, capsys: pytest.CaptureFixture[str]) -> Path:
    """A 4 s drive of 302 x 480 frames at 15 Hz: 60 frames, stored as 200 x 78 crops."""
    code = synth_cli.main(
        [
            "--out", str(out), "--format", "h5", "--preprocessed", "--duration", "4",
            "--size", "302x480", "--takeovers", "0", "--seed", str(seed), "--no-progress",
            "--json",
        ]
    )  # fmt: skip
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["frames"] == 60 and summary["out"] == str(out)
    return out


def test_synthetic_h5_trains(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.set_num_threads(1)
    train_file = synth(tmp_path / "data" / "train.h5", 1, capsys)
    val_file = synth(tmp_path / "data" / "val.h5", 2, capsys)

    with h5py.File(train_file) as h5:
        assert {"camera_front", "inverse_r"} <= set(h5)
        assert h5["camera_front"].shape == (60, 78, 200, 3)
        assert np.std(h5["inverse_r"][()]) > 0

    run = train(
        TrainConfig(
            kind="ncp",
            train=[str(train_file)],
            val=[str(val_file)],
            out=str(tmp_path / "runs"),
            epochs=1,
            batch_size=2,
            seq_len=16,
            max_batches=2,
            device="cpu",
            progress=False,
        )
    )
    log = read_log(run)
    assert [row["epoch"] for row in log] == [1]
    assert math.isfinite(log[0]["train_loss"]) and math.isfinite(log[0]["val_loss"])

    checkpoint = load_checkpoint(run)
    assert checkpoint["model"]["kind"] == "ncp"
    # The frame period comes from the drive's stamps: the generator's 15 Hz camera.
    assert checkpoint["model"]["frame_period_s"] == pytest.approx(1.0 / 15.0, rel=1e-6)
    assert (run / "checkpoints" / "epoch-0001.pt").is_file()
    assert (run / "checkpoints" / "last.pt").is_file()

"""Training end to end on small synthetic drives: learning, run directories, resume, NaN stop."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from ncp_driver import exitcodes
from ncp_driver.training import cli
from ncp_driver.training.errors import DriveDataError, TrainingConfigError, TrainingDivergedError
from ncp_driver.training.runs import (
    create_run_dir,
    load_checkpoint,
    model_from_checkpoint,
    read_log,
)
from ncp_driver.training.synthetic import write_synthetic_drive
from ncp_driver.training.train import TrainConfig, train

train_module = importlib.import_module("ncp_driver.training.train")  # not the function
torch.set_num_threads(1)


@pytest.fixture(scope="module")
def drives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("drives")
    for i in range(3):
        write_synthetic_drive(root / "train" / f"drive{i}.h5", frames=96, seed=i)
    write_synthetic_drive(root / "val" / "val0.h5", frames=64, seed=10)
    return {"train": root / "train", "val": root / "val"}


def quick(drives: dict[str, Path], out: Path, **changes: object) -> TrainConfig:
    """A one-batch-per-epoch configuration for tests of the machinery (not of learning)."""
    settings: dict[str, object] = {
        "train": [str(drives["train"])],
        "val": [str(drives["val"])],
        "out": str(out),
        "epochs": 1,
        "batch_size": 2,
        "max_batches": 1,
        "progress": False,
    }
    settings.update(changes)
    return TrainConfig(**settings)  # type: ignore[arg-type]


def mean_predictor_loss(val_dir: Path) -> float:
    """The validation loss of always predicting the mean label (training units)."""
    labels = np.concatenate(
        [h5py.File(path)["inverse_r"][()].ravel() * 1000.0 for path in sorted(val_dir.glob("*.h5"))]
    )
    return float(np.var(labels))


def test_training_lowers_the_validation_loss(drives: dict[str, Path], tmp_path: Path) -> None:
    config = TrainConfig(
        kind="ncp",
        train=[str(drives["train"])],
        val=[str(drives["val"])],
        out=str(tmp_path),
        epochs=3,
        batch_size=4,
        stride=4,
        lr=2e-2,
        progress=False,
    )
    run = train(config)
    log = read_log(run)
    assert [row["epoch"] for row in log] == [1, 2, 3]
    assert log[-1]["val_loss"] < log[0]["val_loss"]
    # Better than knowing only the label distribution: the network reads the stripe.
    assert log[-1]["val_loss"] < 0.5 * mean_predictor_loss(drives["val"])
    assert all(np.isfinite([row["train_loss"], row["val_mae_inverse_r"]]).all() for row in log)
    saved = json.loads((run / "config.json").read_text())
    assert saved["config"]["kind"] == "ncp" and saved["config"]["epochs"] == 3
    assert saved["frame_period_s"] == pytest.approx(1 / 30, rel=1e-4)
    assert [f["name"] for f in saved["training_data"]["train"]] == [
        "drive0.h5",
        "drive1.h5",
        "drive2.h5",
    ]
    assert len(saved["training_data"]["val"][0]["sha256"]) == 64
    model = model_from_checkpoint(load_checkpoint(run))
    assert model.frame_period_s == pytest.approx(1 / 30, rel=1e-4)


def test_runs_never_share_a_directory(drives: dict[str, Path], tmp_path: Path) -> None:
    first = train(quick(drives, tmp_path))
    second = train(quick(drives, tmp_path))
    assert first != second and first.parent == second.parent == tmp_path
    assert first.name.startswith("ncp-") and second.name.startswith("ncp-")
    for run in (first, second):
        names = sorted(p.name for p in (run / "checkpoints").iterdir())
        assert names == ["epoch-0001.pt", "last.pt"]
        assert not [p for p in run.rglob("*.partial")]


def test_run_directory_names_get_a_suffix_instead_of_overwriting(tmp_path: Path) -> None:
    now = 1_700_000_000.0
    names = [create_run_dir(tmp_path, "cfc", now=now).name for _ in range(3)]
    assert names[1] == names[0] + "-1" and names[2] == names[0] + "-2"
    assert all((tmp_path / name / "checkpoints").is_dir() for name in names)


def test_resume_continues_the_epoch_count(drives: dict[str, Path], tmp_path: Path) -> None:
    run = train(quick(drives, tmp_path, kind="gru", epochs=2))
    before = load_checkpoint(run)
    assert before["epoch"] == 2
    resumed = train(TrainConfig(resume=str(run), epochs=4, max_batches=1, progress=False))
    assert resumed == run
    assert [row["epoch"] for row in read_log(run)] == [1, 2, 3, 4]
    after = load_checkpoint(run)
    assert after["epoch"] == 4 and after["config"]["kind"] == "gru"
    assert (run / "checkpoints" / "epoch-0004.pt").exists()
    # It continued from the saved weights and optimiser, not from scratch.
    assert (
        after["optimizer_state"]["state"][0]["step"]
        == before["optimizer_state"]["state"][0]["step"] + 2
    )
    assert len(list(tmp_path.iterdir())) == 1


def test_a_nan_loss_stops_and_keeps_the_last_good_checkpoint(
    drives: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = train(quick(drives, tmp_path, kind="lstm"))
    last = run / "checkpoints" / "last.pt"
    good = last.read_bytes()
    log_before = (run / "log.csv").read_text()

    def nan_loss(prediction: torch.Tensor, target: torch.Tensor, curve_factor: float):
        return (prediction * float("nan")).sum(), torch.ones(())

    monkeypatch.setattr(train_module, "weighted_loss", nan_loss)
    with pytest.raises(TrainingDivergedError, match=r"loss became NaN or infinite in epoch 2"):
        train(TrainConfig(resume=str(run), epochs=2, progress=False))
    code = cli.main(["--resume", str(run), "--epochs", "2", "--no-progress"])
    assert code == exitcodes.PROBLEM  # the work found a problem: it diverged
    assert f"the last good checkpoint {last} is kept" in capsys.readouterr().err
    assert last.read_bytes() == good
    assert not (run / "checkpoints" / "epoch-0002.pt").exists()
    assert (run / "log.csv").read_text() == log_before


def test_cli_trains_and_reports_bad_input(
    drives: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "runs"
    options = [
        "--kind",
        "cnn",
        "--epochs",
        "1",
        "--batch-size",
        "2",
        "--max-batches",
        "1",
        "--no-progress",
    ]
    paths = ["--train", str(drives["train"]), "--val", str(drives["val"]), "--out", str(out)]
    code = cli.main(paths + options)
    assert code == 0
    assert "epoch 1/1: train loss" in capsys.readouterr().out
    empty = tmp_path / "empty"
    empty.mkdir()
    code = cli.main(["--train", str(empty), "--val", str(drives["val"]), "--out", str(out)])
    assert code == exitcodes.USAGE  # no drive files where the user pointed
    assert f"{empty}: no drive files" in capsys.readouterr().err


def test_bad_drive_in_the_training_set_names_the_file(
    drives: dict[str, Path], tmp_path: Path
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    path = write_synthetic_drive(bad / "broken.h5", frames=32)
    with h5py.File(path, "a") as handle:
        handle["inverse_r"][5] = np.nan
    with pytest.raises(DriveDataError, match=r"broken\.h5: key 'inverse_r' .* at index 5"):
        train(quick(drives, tmp_path / "runs", train=[str(bad)]))


def test_sequences_too_short_for_training(drives: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(TrainingConfigError, match="hold no 200-frame sequence"):
        train(quick(drives, tmp_path, seq_len=200))


def test_passive_protocol_trains_on_one_fold(drives: dict[str, Path], tmp_path: Path) -> None:
    run = train(
        TrainConfig(
            protocol="passive",
            data=[str(drives["train"])],
            fold=2,
            out=str(tmp_path),
            epochs=1,
            batch_size=2,
            max_batches=1,
            progress=False,
        )
    )
    saved = json.loads((run / "config.json").read_text())
    assert [Path(p).name for p in saved["test_files"]] == ["drive2.h5"]
    assert saved["config"]["curve_factor"] == 0.1
    assert saved["val_segments"][0][1:] == [0, 16]

"""``ncp-export`` from a real training checkpoint to a checked ONNX file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from ncp_driver import exitcodes
from ncp_driver.contract import ModelContract
from ncp_driver.export import cli
from ncp_driver.training.runs import load_checkpoint, model_from_checkpoint
from ncp_driver.training.synthetic import write_synthetic_drive
from ncp_driver.training.train import TrainConfig, train

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("export_cli")
    write_synthetic_drive(root / "train" / "a.h5", frames=48, seed=1, frame_period_s=0.05)
    write_synthetic_drive(root / "val" / "b.h5", frames=32, seed=2, frame_period_s=0.05)
    config = TrainConfig(
        kind="lstm",
        train=[str(root / "train")],
        val=[str(root / "val")],
        out=str(root / "runs"),
        epochs=1,
        batch_size=2,
        max_batches=2,
        progress=False,
    )
    return train(config)


def test_export_a_run_directory(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([str(run), "--frames", "50"]) == 0
    printed = capsys.readouterr().out
    assert "onnx checker passed" in printed and "max abs diff" in printed
    path = run / f"{run.name}-epoch-0001.onnx"
    proto = onnx.load(str(path))
    contract = ModelContract.from_metadata(
        {p.key: p.value for p in proto.metadata_props}, str(path)
    )
    assert contract.kind == "lstm" and contract.state_size == 128
    assert contract.frame_period_s == pytest.approx(0.05, rel=1e-4)  # from the drives' stamps
    assert [f["name"] for f in contract.training_data["train"]] == ["a.h5"]
    assert contract.training_data["epoch"] == 1 and contract.training_data["run"] == run.name

    # The file computes what the checkpoint's network computes.
    model = model_from_checkpoint(load_checkpoint(run)).eval()
    frame = np.random.default_rng(0).random((1, 78, 200, 3), dtype=np.float32)
    state = np.zeros((1, 128), np.float32)
    elapsed = np.array([[0.05]], np.float32)
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        ["curvature"], {"frame": frame, "state": state, "elapsed_s": elapsed}
    )[0]
    with torch.no_grad():
        want = model.step(
            torch.from_numpy(frame), torch.from_numpy(state), torch.from_numpy(elapsed)
        )[0]
    assert np.allclose(got, want.numpy(), atol=1e-7)


def test_refuses_to_overwrite_without_force(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "model.onnx"
    target.write_bytes(b"keep me")
    checkpoint = run / "checkpoints" / "epoch-0001.pt"
    assert cli.main([str(checkpoint), "-o", str(target), "--no-check"]) == exitcodes.USAGE
    assert "exists; pass --force" in capsys.readouterr().err
    assert target.read_bytes() == b"keep me"
    assert cli.main([str(checkpoint), "-o", str(target), "--no-check", "--force"]) == 0
    onnx.checker.check_model(str(target))


def test_not_a_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "bogus.pt"
    bogus.write_bytes(b"\x00not a checkpoint")
    assert cli.main([str(bogus)]) == exitcodes.PROBLEM  # a damaged input
    assert "bogus.pt cannot be read as a checkpoint" in capsys.readouterr().err
    assert cli.main([str(tmp_path)]) == exitcodes.USAGE  # a missing file
    assert "does not exist" in capsys.readouterr().err

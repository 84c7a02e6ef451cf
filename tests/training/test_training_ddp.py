"""DistributedDataParallel for real: two CPU processes under torchrun (gloo)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch.distributed

from ncp_driver.training.runs import load_checkpoint, read_log
from ncp_driver.training.synthetic import write_synthetic_drive

pytestmark = pytest.mark.skipif(
    not torch.distributed.is_available(), reason="this torch build has no torch.distributed"
)


def test_two_processes_train_one_run(tmp_path: Path) -> None:
    for i in range(2):
        write_synthetic_drive(tmp_path / "train" / f"d{i}.h5", frames=64, seed=i)
    write_synthetic_drive(tmp_path / "val" / "v.h5", frames=32, seed=9)
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    command = [torchrun] if torchrun else [sys.executable, "-m", "torch.distributed.run"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    options = [
        "--kind",
        "ncp",
        "--epochs",
        "2",
        "--batch-size",
        "4",
        "--max-batches",
        "2",
        "--no-progress",
    ]
    paths = ["--train", str(tmp_path / "train"), "--val", str(tmp_path / "val")]
    result = subprocess.run(
        [
            *command,
            "--standalone",
            "--nproc_per_node=2",
            "-m",
            "ncp_driver.training.cli",
            *paths,
            "--out",
            str(tmp_path / "runs"),
            *options,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1  # only rank 0 writes
    run = runs[0]
    assert json.loads((run / "config.json").read_text())["world_size"] == 2
    assert [row["epoch"] for row in read_log(run)] == [1, 2]
    assert load_checkpoint(run)["epoch"] == 2
    assert result.stdout.count("run directory:") == 1

"""Run directories, checkpoints and the per-epoch CSV log, all written atomically.

A run directory ``<out>/<kind>-<YYYYmmdd-HHMMSS>[-N]/`` holds ``config.json``, ``log.csv``
and ``checkpoints/epoch-XXXX.pt`` plus ``checkpoints/last.pt``. A new run never reuses an
existing directory; ``--resume`` continues one from ``last.pt``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ncp_driver.atomic import atomic_write_bytes
from ncp_driver.training.errors import (
    CheckpointError,
    MissingCheckpointError,
    RunDirectoryError,
)
from ncp_driver.training.networks import SteeringNetwork, build_model

__all__ = [
    "CHECKPOINT_FORMAT",
    "LOG_COLUMNS",
    "checkpoint_summary",
    "create_run_dir",
    "last_checkpoint",
    "load_checkpoint",
    "model_from_checkpoint",
    "read_log",
    "save_checkpoint",
    "write_log",
]

CHECKPOINT_FORMAT = "ncp_driver-checkpoint"
CHECKPOINT_VERSION = 1
LOG_COLUMNS = ("epoch", "train_loss", "val_loss", "val_mae_inverse_r", "seconds")
CONFIG_NAME = "config.json"
LOG_NAME = "log.csv"
CHECKPOINTS = "checkpoints"
LAST = "last.pt"


def create_run_dir(out: Path, kind: str, now: float | None = None) -> Path:
    """A new, empty run directory under ``out``; a suffix -1, -2, ... avoids any existing one."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    base = f"{kind}-{stamp}"
    for attempt in range(1000):
        run = out / (base if attempt == 0 else f"{base}-{attempt}")
        try:
            run.mkdir()
        except FileExistsError:
            continue
        (run / CHECKPOINTS).mkdir()
        return run
    raise RunDirectoryError(f"{out}: could not find a free run directory name for {base}")


def write_config(run: Path, config: dict[str, Any]) -> None:
    atomic_write_bytes(
        run / CONFIG_NAME, (json.dumps(config, indent=2, sort_keys=True) + "\n").encode()
    )


def read_config(run: Path) -> dict[str, Any]:
    path = Path(run) / CONFIG_NAME
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise RunDirectoryError(
            f"{path} is missing: {run} is not a training run directory"
        ) from exc
    except json.JSONDecodeError as exc:
        raise RunDirectoryError(f"{path} is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise RunDirectoryError(f"{path} must hold a JSON object")
    return data


def write_log(run: Path, rows: Sequence[dict[str, Any]]) -> None:
    """Rewrite ``log.csv`` with ``rows`` (one per epoch) atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=LOG_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: row[key] for key in LOG_COLUMNS})
    atomic_write_bytes(Path(run) / LOG_NAME, buffer.getvalue().encode())


def read_log(run: Path) -> list[dict[str, Any]]:
    """The rows of ``log.csv`` (numbers parsed); empty when there is none yet."""
    path = Path(run) / LOG_NAME
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        {key: (int(row[key]) if key == "epoch" else float(row[key])) for key in LOG_COLUMNS}
        for row in rows
    ]


def checkpoint_path(run: Path, epoch: int) -> Path:
    return Path(run) / CHECKPOINTS / f"epoch-{epoch:04d}.pt"


def last_checkpoint(run: Path) -> Path:
    return Path(run) / CHECKPOINTS / LAST


def save_checkpoint(run: Path, epoch: int, payload: dict[str, Any]) -> Path:
    """Write ``epoch-XXXX.pt`` and then ``last.pt``, each atomically."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "epoch": epoch,
        **payload,
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    data = buffer.getvalue()
    path = checkpoint_path(run, epoch)
    atomic_write_bytes(path, data)
    atomic_write_bytes(last_checkpoint(run), data)
    return path


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint file, or a run directory's ``last.pt``."""
    path = Path(path)
    if path.is_dir():
        path = last_checkpoint(path)
    if not path.exists():
        raise MissingCheckpointError(
            f"{path} does not exist: give a checkpoint file or a run directory with "
            f"{CHECKPOINTS}/{LAST}"
        )
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{path} cannot be read as a checkpoint ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not an ncp_driver checkpoint (written by ncp-train)")
    if data.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint version {data.get('version')}; this ncp_driver reads "
            f"{CHECKPOINT_VERSION}"
        )
    data["path"] = str(path)
    return data


def checkpoint_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """What a model card (ncp_driver.modelcard) states about a checkpoint, without tensors: its training ``config``,
    the number of float ``parameters`` and the epoch's ``metrics``."""
    saved = torch.load(Path(path), map_location="cpu", weights_only=False)
    return {
        "config": saved["config"],
        "parameters": sum(
            int(v.numel()) for v in saved["model_state"].values() if v.dtype.is_floating_point
        ),
        "metrics": {k: float(v) for k, v in saved["metrics"].items()},
    }


def model_from_checkpoint(checkpoint: dict[str, Any]) -> SteeringNetwork:
    """Rebuild the network a checkpoint was saved from and load its weights."""
    config = checkpoint.get("model")
    if not isinstance(config, dict) or "kind" not in config:
        raise CheckpointError(f"{checkpoint.get('path', 'checkpoint')} has no model description")
    model = build_model(
        kind=str(config["kind"]),
        seed=int(config["seed"]),
        frame_period_s=float(config["frame_period_s"]),
    )
    try:
        model.load_state_dict(checkpoint["model_state"])
    except (KeyError, RuntimeError) as exc:
        raise CheckpointError(
            f"{checkpoint.get('path', 'checkpoint')}: the weights do not fit a {config['kind']} "
            f"network ({exc})"
        ) from exc
    return model

"""Training with the paper's recipe, on one CPU, one GPU, or many under ``torchrun``.

Defaults: sequences of 16 frames (a sequence with a stamp gap of 5 s or more is rejected),
batch 20, Adam 5e-4, gradient norm clipped to 10, target inverse_r x 1000, loss
``sum(w (y_hat - y)^2) / sum(w)`` with ``w = exp(|y| curve_factor)`` (y in training units),
shadow augmentation, LTC parameters clipped after every step. Every epoch writes a checkpoint
and a CSV row; a NaN or infinite loss stops the run and leaves the last good checkpoint.

Under ``torchrun`` (WORLD_SIZE > 1) each process trains on its share of every epoch with
DistributedDataParallel (gloo on CPU, nccl on CUDA); ``batch_size`` is the global batch and
only rank 0 writes files.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, RandomSampler, Subset
from torch.utils.data.distributed import DistributedSampler
from tqdm import tqdm

import ncp_driver
from ncp_driver.contract import MODEL_KINDS, OutputMeaning
from ncp_driver.drives import (
    DriveInfo,
    find_drive_files,
    median_frame_period,
    open_drive,
    sequence_windows,
)
from ncp_driver.preprocessing import PAPER_PREPROCESSING
from ncp_driver.training.cells import init_readout_from_labels
from ncp_driver.training.data import SequenceDataset, Window
from ncp_driver.training.errors import TrainingConfigError, TrainingDivergedError
from ncp_driver.training.networks import SteeringNetwork, build_model
from ncp_driver.training.protocols import (
    PROTOCOLS,
    Segment,
    Split,
    active_split,
    passive_split,
)
from ncp_driver.training.provenance import data_identity
from ncp_driver.training.runs import (
    create_run_dir,
    last_checkpoint,
    load_checkpoint,
    read_config,
    read_log,
    save_checkpoint,
    write_config,
    write_log,
)
from ncp_driver.training.wiring import PAPER_SEED

__all__ = ["PROTOCOL_DEFAULTS", "TrainConfig", "train", "weighted_loss"]

# Per protocol: epochs and curve_factor (the paper's scripts).
PROTOCOL_DEFAULTS: dict[str, dict[str, float]] = {
    "active": {"epochs": 200, "curve_factor": 0.0},
    "passive": {"epochs": 50, "curve_factor": 0.1},
}
# Settings a resumed run may change; every other one comes from the run's config.json.
RESUMABLE = ("epochs", "device", "workers", "progress", "max_batches")


READOUT_INITS = ("paper", "labels")
# --readout-init labels: a bounded motor neuron's gain covers the labels' 99.9th-percentile
# deviation from their mean with 25 % to spare (ncp_driver.training.cells.init_readout_from_labels).
READOUT_QUANTILE = 0.999
READOUT_REACH = 1.25


@dataclass
class TrainConfig:
    """Every training setting; the fields mirror ``ncp-train``'s flags."""

    kind: str = "ncp"
    protocol: str = "active"
    train: list[str] = field(default_factory=list)  # active: training drives (files or dirs)
    val: list[str] = field(default_factory=list)  # active: validation drives
    data: list[str] = field(default_factory=list)  # passive: all drives
    fold: int = 0
    folds: int = 10
    out: str = "runs"
    resume: str | None = None  # a run directory to continue
    epochs: int | None = None  # None: the protocol's (active 200, passive 50)
    batch_size: int = 20
    seq_len: int = 16
    stride: int | None = None  # None: seq_len (non-overlapping sequences)
    lr: float = 5e-4
    clip_norm: float = 10.0
    curve_factor: float | None = None  # None: the protocol's (active 0.0, passive 0.1)
    shadow_gamma: float = 1.0  # 0 turns the shadow augmentation off
    readout_init: str = "paper"  # "labels": readout bias/gain from the training labels' spread
    max_gap_s: float = 5.0
    val_fraction: float = 0.05  # passive: validated share at each end of a training file
    seed: int = PAPER_SEED
    device: str = "auto"  # auto, cpu, cuda, cuda:N
    workers: int = 0  # DataLoader worker processes
    max_batches: int | None = None  # cap on training batches per epoch (smoke runs)
    progress: bool | None = None  # None: a progress bar when stderr is a terminal

    def resolved(self) -> TrainConfig:
        """A copy with the protocol's defaults filled in, validated."""
        if self.protocol not in PROTOCOLS:
            raise TrainingConfigError(f"unknown protocol {self.protocol!r}; choose {PROTOCOLS}")
        if self.kind not in MODEL_KINDS:
            raise TrainingConfigError(f"unknown model kind {self.kind!r}; choose {MODEL_KINDS}")
        if self.readout_init not in READOUT_INITS:
            raise TrainingConfigError(
                f"unknown readout init {self.readout_init!r}; choose {READOUT_INITS}"
            )
        defaults = PROTOCOL_DEFAULTS[self.protocol]
        out = dataclasses.replace(
            self,
            epochs=int(defaults["epochs"]) if self.epochs is None else self.epochs,
            curve_factor=defaults["curve_factor"]
            if self.curve_factor is None
            else self.curve_factor,
            stride=self.seq_len if self.stride is None else self.stride,
        )
        for name in ("epochs", "batch_size", "seq_len", "stride", "folds"):
            if getattr(out, name) < 1:
                raise TrainingConfigError(f"{name} must be at least 1, got {getattr(out, name)}")
        if not (out.lr > 0 and out.clip_norm > 0 and out.max_gap_s > 0):
            raise TrainingConfigError("lr, clip_norm and max_gap_s must be positive")
        if out.shadow_gamma < 0 or (out.curve_factor or 0.0) < 0:
            raise TrainingConfigError("shadow_gamma and curve_factor must not be negative")
        if out.protocol == "active" and not out.train:
            raise TrainingConfigError("the active protocol needs training drives: --train PATH")
        if out.protocol == "passive" and not out.data:
            raise TrainingConfigError("the passive protocol needs drives: --data PATH")
        return out

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def weighted_loss(
    prediction: torch.Tensor, target: torch.Tensor, curve_factor: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(sum(w (y_hat - y)^2), sum(w)) with w = exp(|y| curve_factor)."""
    weight = torch.exp(target.abs() * curve_factor)
    return (weight * (prediction - target) ** 2).sum(), weight.sum()


@dataclass
class _Distributed:
    world: int = 1
    rank: int = 0
    local_rank: int = 0
    started: bool = False

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls, use_cuda: bool) -> _Distributed:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls()
        started = False
        if not dist.is_initialized():
            dist.init_process_group(backend="nccl" if use_cuda else "gloo")
            started = True
        return cls(
            world=dist.get_world_size(),
            rank=dist.get_rank(),
            local_rank=int(os.environ.get("LOCAL_RANK", "0")),
            started=started,
        )

    def all_sum(self, values: Sequence[float], device: torch.device) -> list[float]:
        tensor = torch.tensor(list(values), dtype=torch.float64, device=device)
        if self.enabled:
            dist.all_reduce(tensor)
        return [float(v) for v in tensor.tolist()]

    def broadcast(self, value: Any) -> Any:
        if not self.enabled:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def close(self) -> None:
        if self.started and dist.is_initialized():
            dist.destroy_process_group()


def _device(name: str, distributed_local_rank: int | None) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and distributed_local_rank is not None:
        name = f"cuda:{distributed_local_rank}"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TrainingConfigError(f"--device {name} was asked for but CUDA is not available")
    return torch.device(name)


def _check_drives_given(config: TrainConfig) -> None:
    """Each protocol's drive options, named in the error when one is missing."""
    if config.protocol == "active":
        if not config.train:
            raise TrainingConfigError(
                "the active protocol (the default) needs training drives: --train DIR_OR_FILES"
            )
        if not config.val:
            raise TrainingConfigError(
                "the active protocol (the default) needs validation drives as well: add --val "
                "DIR_OR_FILES (held-out drives), or use --protocol passive --data DRIVES for "
                "the paper's 10-fold cross-testing"
            )
    elif not config.data:
        raise TrainingConfigError("the passive protocol needs its drives: --data DIR_OR_FILES")


def _split(config: TrainConfig, drives: dict[Path, DriveInfo]) -> Split:
    _check_drives_given(config)
    if config.protocol == "active":
        return active_split(find_drive_files(config.train), find_drive_files(config.val))
    files = find_drive_files(config.data)
    return passive_split(
        files,
        [drives[f].length for f in files],
        fold=config.fold,
        folds=config.folds,
        val_fraction=config.val_fraction,
        seq_len=config.seq_len,
    )


def _windows(
    segments: Sequence[Segment],
    order: list[Path],
    drives: dict[Path, DriveInfo],
    config: TrainConfig,
) -> list[Window]:
    windows = []
    assert config.stride is not None
    for segment in segments:
        info = drives[segment.path]
        for start in sequence_windows(
            info.stamps,
            config.seq_len,
            config.stride,
            first=segment.first,
            stop=segment.stop,
            max_gap_s=config.max_gap_s,
        ):
            windows.append(Window(order.index(segment.path), start, config.seq_len))
    return windows


def _open_all(config: TrainConfig) -> dict[Path, DriveInfo]:
    paths = find_drive_files(config.train + config.val + config.data)
    return {path: open_drive(path, PAPER_PREPROCESSING) for path in dict.fromkeys(paths)}


def _merge_resume(config: TrainConfig) -> tuple[TrainConfig, Path]:
    run = Path(str(config.resume))
    saved = TrainConfig.from_dict(read_config(run).get("config", {}))
    overrides = {name: getattr(config, name) for name in RESUMABLE}
    if overrides["epochs"] is None:
        overrides["epochs"] = saved.epochs
    return dataclasses.replace(saved, resume=str(run), **overrides), run


def _show_progress(config: TrainConfig, main: bool) -> bool:
    if not main:
        return False
    return sys.stderr.isatty() if config.progress is None else config.progress


def train(config: TrainConfig) -> Path:
    """Train per ``config``; returns the run directory (new, or ``config.resume``)."""
    resume_run: Path | None = None
    if config.resume:
        config, resume_run = _merge_resume(config)
    config = config.resolved()
    use_cuda = config.device.startswith("cuda") or (
        config.device == "auto" and torch.cuda.is_available()
    )
    ddp = _Distributed.from_env(use_cuda)
    try:
        return _train(config, ddp, resume_run)
    finally:
        ddp.close()


def _train(config: TrainConfig, ddp: _Distributed, resume_run: Path | None) -> Path:
    assert config.epochs is not None and config.curve_factor is not None
    device = _device(config.device, ddp.local_rank if ddp.enabled else None)
    if device.type == "cuda" and device.index is not None:
        torch.cuda.set_device(device)
    checkpoint = load_checkpoint(resume_run) if resume_run is not None else None

    drives = _open_all(config)
    split = _split(config, drives)
    order = list(drives)
    train_windows = _windows(split.train, order, drives, config)
    val_windows = _windows(split.val, order, drives, config)
    for name, windows in (("training", train_windows), ("validation", val_windows)):
        if not windows:
            raise TrainingConfigError(
                f"the {name} drives hold no {config.seq_len}-frame sequence without a stamp gap "
                f"of {config.max_gap_s} s or more; record longer drives or lower --seq-len"
            )
    train_drives = [drives[s.path] for s in split.train]
    if checkpoint is not None:
        frame_period = float(checkpoint["model"]["frame_period_s"])
    else:
        frame_period = median_frame_period(train_drives)
    scale = OutputMeaning().training_scale
    infos = [drives[p] for p in order]
    train_set = SequenceDataset(
        infos,
        train_windows,
        frame_period,
        PAPER_PREPROCESSING,
        scale,
        config.shadow_gamma,
        config.seed,
    )
    val_set = SequenceDataset(infos, val_windows, frame_period, PAPER_PREPROCESSING, scale, 0.0)

    model = build_model(config.kind, seed=config.seed, frame_period_s=frame_period)
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model_state"])
    elif config.readout_init == "labels":
        labels = np.concatenate([d.inverse_r for d in train_drives]) * scale
        mean = float(np.mean(labels))
        reach = READOUT_REACH * float(np.quantile(np.abs(labels - mean), READOUT_QUANTILE))
        init_readout_from_labels(model.cell, mean, float(np.std(labels)) or 1.0, reach or 1.0)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    if checkpoint is not None:
        optimizer.load_state_dict(checkpoint["optimizer_state"])
    net: torch.nn.Module = model
    if ddp.enabled:
        net = DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )

    identity = data_identity(
        [s.path for s in split.train],
        [s.path for s in split.val],
        split.test_files,
        protocol=config.protocol,
        fold=config.fold if config.protocol == "passive" else None,
    )
    run = _prepare_run(
        config, ddp, resume_run, frame_period, identity, split, train_windows, val_windows
    )
    start = int(checkpoint["epoch"]) + 1 if checkpoint is not None else 1
    rows = [row for row in read_log(run) if row["epoch"] < start] if ddp.main else []

    per_process_batch = max(1, config.batch_size // ddp.world)
    generator = torch.Generator()
    if ddp.enabled:
        sampler: Any = DistributedSampler(
            train_set, num_replicas=ddp.world, rank=ddp.rank, shuffle=True, seed=config.seed
        )
        val_part: Any = Subset(val_set, list(range(ddp.rank, len(val_set), ddp.world)))
    else:
        sampler = RandomSampler(train_set, generator=generator)
        val_part = val_set
    pin = device.type == "cuda"
    train_loader = DataLoader(
        train_set,
        batch_size=per_process_batch,
        sampler=sampler,
        num_workers=config.workers,
        pin_memory=pin,
    )
    val_loader = DataLoader(
        val_part, batch_size=per_process_batch, num_workers=config.workers, pin_memory=pin
    )
    show = _show_progress(config, ddp.main)
    if start > config.epochs and ddp.main:
        print(f"{run}: already trained for {start - 1} of {config.epochs} epochs; nothing to do")

    for epoch in range(start, config.epochs + 1):
        began = time.monotonic()
        train_set.set_epoch(epoch)
        generator.manual_seed(config.seed * 1000 + epoch)
        if ddp.enabled:
            sampler.set_epoch(epoch)
        model.train()
        total, batches = 0.0, 0
        limit = (
            len(train_loader)
            if config.max_batches is None
            else min(len(train_loader), config.max_batches)
        )
        bar = tqdm(
            total=limit, desc=f"epoch {epoch}/{config.epochs}", disable=not show, leave=False
        )
        for frames, elapsed, target in train_loader:
            if batches >= limit:
                break
            frames = frames.to(device, non_blocking=True).float() * PAPER_PREPROCESSING.scale
            prediction, _ = net(frames, elapsed.to(device), None)
            numerator, denominator = weighted_loss(
                prediction, target.to(device), config.curve_factor
            )
            loss = numerator / denominator
            _stop_if_not_finite(loss.detach(), "loss", epoch, batches, run, ddp, device)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
            _stop_if_not_finite(norm.detach(), "gradient norm", epoch, batches, run, ddp, device)
            optimizer.step()
            model.apply_constraints()
            total += float(loss.detach())
            batches += 1
            bar.update(1)
            bar.set_postfix(loss=f"{total / batches:.4g}")
        bar.close()
        loss_sum, batch_count = ddp.all_sum([total, batches], device)
        train_loss = loss_sum / max(batch_count, 1)
        val_loss, val_mae = _evaluate(model, val_loader, config.curve_factor, scale, device, ddp)
        row = {
            "epoch": epoch,
            "train_loss": train_loss,
            "val_loss": val_loss,
            "val_mae_inverse_r": val_mae,
            "seconds": time.monotonic() - began,
        }
        if ddp.main:
            save_checkpoint(
                run,
                epoch,
                {
                    "model": model.model_config(),
                    "model_state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                    "optimizer_state": optimizer.state_dict(),
                    "config": config.to_dict(),
                    "training_data": identity,
                    "preprocessing": PAPER_PREPROCESSING.to_dict(),
                    "metrics": row,
                },
            )
            rows.append(row)
            write_log(run, rows)
            print(
                f"epoch {epoch}/{config.epochs}: train loss {train_loss:.4g}, val loss "
                f"{val_loss:.4g}, val MAE {val_mae:.4g} 1/m ({row['seconds']:.1f} s)",
                flush=True,
            )
    train_set.close()
    val_set.close()
    return run


def _prepare_run(
    config: TrainConfig,
    ddp: _Distributed,
    resume_run: Path | None,
    frame_period: float,
    identity: dict[str, Any],
    split: Split,
    train_windows: list[Window],
    val_windows: list[Window],
) -> Path:
    """The run directory: a new one (rank 0 creates it and tells the others) or the resumed."""
    if resume_run is not None:
        return resume_run
    run: Path | None = None
    if ddp.main:
        run = create_run_dir(Path(config.out), config.kind)
        write_config(
            run,
            {
                "config": config.to_dict(),
                "frame_period_s": frame_period,
                "train_files": [str(s.path) for s in split.train],
                "val_files": [str(s.path) for s in split.val],
                "test_files": [str(p) for p in split.test_files],
                "train_segments": [[str(s.path), s.first, s.stop] for s in split.train],
                "val_segments": [[str(s.path), s.first, s.stop] for s in split.val],
                "train_sequences": len(train_windows),
                "val_sequences": len(val_windows),
                "training_data": identity,
                "world_size": ddp.world,
                "versions": {"ncp_driver": ncp_driver.__version__, "torch": torch.__version__},
            },
        )
    return Path(ddp.broadcast(str(run) if run is not None else None))


def _stop_if_not_finite(
    value: torch.Tensor,
    what: str,
    epoch: int,
    batch: int,
    run: Path,
    ddp: _Distributed,
    device: torch.device,
) -> None:
    bad = 0.0 if bool(torch.isfinite(value).all()) else 1.0
    if ddp.enabled:
        bad = ddp.all_sum([bad], device)[0]
    if bad:
        last = last_checkpoint(run)
        kept = (
            f"the last good checkpoint {last} is kept"
            if last.exists()
            else "no checkpoint was written yet"
        )
        raise TrainingDivergedError(
            f"the {what} became NaN or infinite in epoch {epoch}, batch {batch + 1}; training "
            f"stopped and {kept}. Lower --lr, check the labels, or resume with --resume {run}"
        )


@torch.no_grad()
def _evaluate(
    model: SteeringNetwork,
    loader: DataLoader[Any],
    curve_factor: float,
    scale: float,
    device: torch.device,
    ddp: _Distributed,
) -> tuple[float, float]:
    """(weighted validation loss, mean absolute error of inverse_r in 1/m)."""
    model.eval()
    numerator = denominator = abs_error = count = 0.0
    for frames, elapsed, target in loader:
        frames = frames.to(device).float() * PAPER_PREPROCESSING.scale
        target = target.to(device)
        prediction, _ = model(frames, elapsed.to(device), None)
        num, den = weighted_loss(prediction, target, curve_factor)
        numerator += float(num)
        denominator += float(den)
        abs_error += float((prediction - target).abs().sum()) / scale
        count += target.numel()
    numerator, denominator, abs_error, count = ddp.all_sum(
        [numerator, denominator, abs_error, count], device
    )
    loss = numerator / denominator if denominator > 0 else math.nan
    return loss, abs_error / count if count else math.nan

"""The paper's two training protocols: which frames train and which validate.

``active``: the training drives train, separate validation drives validate (whole files).
``passive``: 10-fold cross-testing split by file. Fold k holds out every file whose index
(sorted by name) is k modulo the fold count as test files; within each remaining file the
first and the last 5 % of frames, rounded to a multiple of the sequence length (at least one
sequence when the file holds three or more), validate and the middle trains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ncp_driver.training.errors import TrainingConfigError

__all__ = ["PROTOCOLS", "Segment", "Split", "active_split", "passive_split", "validation_margin"]

PROTOCOLS = ("active", "passive")


@dataclass(frozen=True)
class Segment:
    """Frames ``[first, stop)`` of drive file ``path`` (``stop`` None: to the end)."""

    path: Path
    first: int = 0
    stop: int | None = None


@dataclass(frozen=True)
class Split:
    train: list[Segment]
    val: list[Segment]
    test_files: list[Path] = field(default_factory=list)


def active_split(train_files: Sequence[Path], val_files: Sequence[Path]) -> Split:
    """Whole training files train, whole validation files validate."""
    if not val_files:
        raise TrainingConfigError(
            "the active protocol needs validation drives: pass --val FILE_OR_DIR"
        )
    overlap = {p.resolve() for p in train_files} & {p.resolve() for p in val_files}
    if overlap:
        raise TrainingConfigError(
            f"{sorted(overlap)[0]} is both a training and a validation drive; keep them apart"
        )
    return Split(
        train=[Segment(Path(p)) for p in train_files], val=[Segment(Path(p)) for p in val_files]
    )


def validation_margin(length: int, fraction: float, seq_len: int) -> int:
    """Frames validated at each end of a training file in the passive protocol."""
    margin = round(fraction * length / seq_len) * seq_len
    if margin == 0 and fraction > 0 and length >= 3 * seq_len:
        margin = seq_len
    return int(margin)


def passive_split(
    files: Sequence[Path],
    lengths: Sequence[int],
    fold: int,
    folds: int = 10,
    val_fraction: float = 0.05,
    seq_len: int = 16,
) -> Split:
    """Fold ``fold`` of the passive cross-testing split (files sorted by name first)."""
    if not 0 <= fold < folds:
        raise TrainingConfigError(f"--fold {fold} is out of range: choose 0..{folds - 1}")
    if len(files) < 2:
        raise TrainingConfigError(
            f"the passive protocol needs at least 2 drive files, got {len(files)}"
        )
    order = sorted(range(len(files)), key=lambda i: Path(files[i]).name)
    test_idx = [i for rank, i in enumerate(order) if rank % folds == fold]
    if not test_idx:
        raise TrainingConfigError(
            f"fold {fold} holds no test file: there are only {len(files)} drives for {folds} "
            "folds; use a smaller --fold or fewer --folds"
        )
    train: list[Segment] = []
    val: list[Segment] = []
    for i in order:
        if i in test_idx:
            continue
        path, length = Path(files[i]), int(lengths[i])
        margin = validation_margin(length, val_fraction, seq_len)
        if margin:
            val += [Segment(path, 0, margin), Segment(path, length - margin, length)]
        train.append(Segment(path, margin, length - margin))
    return Split(train=train, val=val, test_files=[Path(files[i]) for i in test_idx])

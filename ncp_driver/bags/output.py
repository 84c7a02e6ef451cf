"""Outputs that appear complete or not at all: written under a temporary name, then renamed.

An existing output is never replaced unless ``force`` is set; the check happens before any work
starts (:func:`check_new`), and again at the rename. An interrupted run leaves only a hidden
partial file or folder (named by :func:`ncp_driver.atomic.partial_path`, which a later run
removes once its writer no longer runs), never a file with the final name.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from ncp_driver.atomic import partial_path, remove_stale_partials
from ncp_driver.bags.errors import OutputExistsError

__all__ = [
    "atomic_dir",
    "atomic_file",
    "check_new",
    "dump_json",
    "partial_name",
    "write_csv",
    "write_json",
]


def partial_name(path: Path) -> Path:
    """The temporary name ``path`` is written under until it is complete; stale ones of
    killed runs are removed first (see :mod:`ncp_driver.atomic`)."""
    remove_stale_partials(path)
    return partial_path(path)


def check_new(paths: Iterable[Path], force: bool) -> None:
    """Fail early if any of ``paths`` exists and ``force`` is not set."""
    if force:
        return
    existing = [str(p) for p in paths if Path(p).exists()]
    if existing:
        raise OutputExistsError(
            f"{', '.join(existing)} exists already: choose another output or pass --force "
            "to replace it"
        )


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_file(path: Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` when the block succeeds."""
    path = Path(path)
    check_new([path], force)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_name(path)
    _remove(tmp)
    try:
        yield tmp
    except BaseException:
        _remove(tmp)
        raise
    if not tmp.exists():
        raise OutputExistsError(f"{path}: nothing was written to {tmp}; no output produced")
    check_new([path], force)
    if path.is_dir():
        shutil.rmtree(path)
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_dir(path: Path, force: bool = False) -> Iterator[Path]:
    """Yield a new temporary folder beside ``path``; it becomes ``path`` when the block succeeds.

    With ``force`` an existing ``path`` is replaced only after the new folder is complete.
    """
    path = Path(path)
    check_new([path], force)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_name(path)
    _remove(tmp)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    check_new([path], force)
    if path.exists():
        old = partial_path(path, "old")
        _remove(old)
        os.replace(path, old)
        os.replace(tmp, path)
        _remove(old)
    else:
        os.replace(tmp, path)


def write_csv(
    path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]], force: bool = False
) -> int:
    """Write a CSV file atomically; returns the number of data rows."""
    count = 0
    with atomic_file(path, force) as tmp, tmp.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def write_json(path: Path, data: Any, force: bool = False) -> None:
    """Write a JSON document atomically."""
    with atomic_file(path, force) as tmp, tmp.open("w", encoding="utf-8") as stream:
        dump_json(data, stream)


def dump_json(data: Any, stream: TextIO) -> None:
    """Indented JSON with a trailing newline."""
    json.dump(data, stream, indent=2, allow_nan=False)
    stream.write("\n")

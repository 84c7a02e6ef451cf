"""Partial outputs (issue 10 item 9, issue 9): one naming, stale ones removed, live ones kept."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ncp_driver.atomic import atomic_write_text, owner_tag, partial_path, remove_stale_partials

CHILD_TAG = "from ncp_driver.atomic import owner_tag; print(owner_tag(), flush=True)"


def dead_tag() -> str:
    """The owner tag of a process that has exited."""
    done = subprocess.run([sys.executable, "-c", CHILD_TAG], capture_output=True, text=True)
    return done.stdout.strip()


def test_a_partial_of_a_killed_writer_is_removed_saying_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "metrics.json"
    stale = tmp_path / f".metrics.json.{dead_tag()}.partial"
    stale.write_text("half")
    folder = tmp_path / f".metrics.json.{dead_tag()}.partial"  # a folder (extract's frames)
    folder.mkdir()
    (folder / "000001.png").write_bytes(b"png")
    with caplog.at_level(logging.WARNING, logger="ncp_driver.atomic"):
        atomic_write_text(out, "{}")
    assert out.read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]
    assert sum("no longer runs" in r.getMessage() for r in caplog.records) == 2


def test_a_partial_of_a_running_writer_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "drive.h5"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD_TAG + "; import time; time.sleep(60)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        tag = child.stdout.readline().strip()
        live = tmp_path / f".drive.h5.{tag}.partial"
        live.write_text("being written")
        assert remove_stale_partials(out) == [] and live.exists()
    finally:
        child.kill()
        child.wait()
    assert remove_stale_partials(out) == [live] and not live.exists()


def test_a_reused_pid_does_not_keep_a_stale_partial(tmp_path: Path) -> None:
    """This process's pid with another start time: the pid was reused, the writer is gone."""
    pid, start, boot = owner_tag().split("-")
    for tag in (
        f"{pid}-{int(start) + 1}-{boot}",
        f"{pid}-{start}-{'f' * 8 if boot != 'f' * 8 else 'e' * 8}",
    ):
        (tmp_path / f".out.csv.{tag}.partial").write_text("x")
    (tmp_path / f".out.csv.{owner_tag()}.partial").write_text("mine")
    removed = remove_stale_partials(tmp_path / "out.csv")
    assert len(removed) == 2
    assert [p.name for p in tmp_path.iterdir()] == [f".out.csv.{owner_tag()}.partial"]


def test_old_pid_only_names_and_foreign_names(tmp_path: Path) -> None:
    dead_pid = dead_tag().split("-")[0]
    (tmp_path / f".out.csv.{dead_pid}.partial").write_text("old name, writer gone")
    (tmp_path / f".out.csv.{os.getpid()}.partial").write_text("old name, pid runs")
    (tmp_path / ".out.csv.abc123.partial").write_text("not ours: left alone")
    (tmp_path / ".other.csv.1.partial").write_text("another output")
    remove_stale_partials(tmp_path / "out.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f".out.csv.{os.getpid()}.partial", ".out.csv.abc123.partial", ".other.csv.1.partial"]
    )


def test_every_writer_uses_the_one_name(tmp_path: Path) -> None:
    from ncp_driver.bags import BagWriter
    from ncp_driver.bags.output import atomic_dir, partial_name
    from ncp_driver.drives import DriveWriter

    assert partial_name(tmp_path / "x") == partial_path(tmp_path / "x")
    stale = tmp_path / f".bag.{dead_tag()}.partial"
    stale.mkdir()
    with BagWriter(tmp_path / "bag", "sqlite3") as writer:
        assert writer._staging == partial_path(tmp_path / "bag")
        writer.write("/flag", "std_msgs/msg/Bool", 1, writer.message("std_msgs/msg/Bool"))
    assert not stale.exists()
    stale = tmp_path / f".drive.h5.{dead_tag()}.partial"
    stale.write_bytes(b"")
    with DriveWriter(tmp_path / "drive.h5", (2, 2, 3)) as drive:
        assert drive._tmp == partial_path(tmp_path / "drive.h5")
    assert not stale.exists()
    stale = tmp_path / f".frames.{dead_tag()}.partial"
    stale.mkdir()
    with atomic_dir(tmp_path / "frames") as tmp:
        assert tmp == partial_path(tmp_path / "frames")
    assert not stale.exists()


def test_an_old_copy_is_kept_while_the_output_is_missing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A writer killed between moving the old output aside and renaming the new one in."""
    old = tmp_path / f".replay.{dead_tag()}.old"
    old.mkdir()
    with caplog.at_level(logging.WARNING, logger="ncp_driver.atomic"):
        assert remove_stale_partials(tmp_path / "replay") == []
    assert old.exists() and "rename it back" in caplog.text
    (tmp_path / "replay").mkdir()
    assert remove_stale_partials(tmp_path / "replay") == [old]

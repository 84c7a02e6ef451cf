"""Writing a file so that it appears complete or not at all (temporary name, fsync, rename).

The one definition of partial outputs. Every writer (this module's helpers, the bag tools'
``atomic_file``/``atomic_dir``, drive files, bags, exported models) writes under
:func:`partial_path`'s name beside the final one, then renames it:

    .<name>.<pid>-<start>-<boot>.partial

``pid`` is the writing process, ``start`` its start time (clock ticks since boot, from
``/proc/<pid>/stat``) and ``boot`` the first 8 characters of the kernel's boot id: a later run
can tell a partial file whose writer still runs (same boot, a process of that pid started at
that time) from one left by a killed process, even when the pid was reused. Stale ones of the
same final name are removed when a writer starts, saying so (a warning on the
``ncp_driver.atomic`` logger, which Python prints to stderr by default); an ``.old`` copy of a
replaced output is kept while the output itself is missing, as it is then the only complete
copy. Without ``/proc`` (not Linux) the start and boot are ``0`` and only a pid that no longer
runs counts as stale.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
from pathlib import Path

__all__ = [
    "PARTIAL_SUFFIX",
    "atomic_write_bytes",
    "atomic_write_text",
    "owner_tag",
    "partial_path",
    "remove_stale_partials",
]

PARTIAL_SUFFIX = ".partial"
_LOG = logging.getLogger("ncp_driver.atomic")
_TAG = re.compile(r"^(?P<pid>\d+)(?:-(?P<start>\d+)-(?P<boot>[0-9a-f]{1,8}))?$")


def _start_ticks(pid: int) -> int | None:
    """The start time of process ``pid`` in clock ticks since boot, None if it is not running."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The name (field 2) is in parentheses and may hold spaces: split after its closing one.
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19])  # field 22 of the whole line


@functools.cache
def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip().replace("-", "")[:8]
    except OSError:
        return "0"


def owner_tag(pid: int | None = None) -> str:
    """``<pid>-<start>-<boot>`` of process ``pid`` (default: this one)."""
    pid = os.getpid() if pid is None else pid
    return f"{pid}-{_start_ticks(pid) or 0}-{_boot_id()}"


def _pid_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _owner_alive(tag: str) -> bool | None:
    """Whether the writer named by ``tag`` still runs; None if ``tag`` is not an owner tag."""
    match = _TAG.match(tag)
    if match is None:
        return None
    pid = int(match["pid"])
    if match["start"] is None:  # an old name, pid only: alive while the pid runs
        return _pid_runs(pid)
    start, boot = int(match["start"]), match["boot"]
    if start == 0 or boot == "0":  # written without /proc
        return _pid_runs(pid)
    if boot != _boot_id():
        return False  # written before the last boot
    return _start_ticks(pid) == start


def partial_path(path: Path | str, kind: str = "partial") -> Path:
    """The name ``path`` is written under until it is complete (``kind`` "old": the name an
    output being replaced is moved to), owned by this process."""
    path = Path(path)
    return path.with_name(f".{path.name}.{owner_tag()}.{kind}")


def remove_stale_partials(path: Path | str) -> list[Path]:
    """Remove partial files and folders of ``path`` left by writers that no longer run.

    Each removal is logged (a warning). Partials of running writers, and names this module
    did not make, are left alone. Returns what was removed.
    """
    path = Path(path)
    folder = path.parent
    prefix = f".{path.name}."
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not name.startswith(prefix):
            continue
        tag, _, kind = name[len(prefix) :].rpartition(".")
        if kind not in ("partial", "old") or _owner_alive(tag) is not False:
            continue
        if kind == "old" and not path.exists():  # killed mid-replacement: the only full copy
            _LOG.warning(
                "%s is missing; %s holds its previous version: rename it back", path, entry
            )
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError as exc:
            _LOG.warning("could not remove the stale partial output %s: %s", entry, exc)
            continue
        _LOG.warning(
            "removed %s: a partial output of %s left by process %s, which no longer runs",
            entry,
            path,
            tag.split("-")[0],
        )
        removed.append(entry)
    return removed


def atomic_write_bytes(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to :func:`partial_path` beside ``path``, then rename it over ``path``.

    Raises ``OSError`` (the caller turns it into its layer's error); no partial file is left.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(path)
    tmp = partial_path(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path | str, text: str) -> Path:
    """:func:`atomic_write_bytes` of ``text`` in UTF-8."""
    return atomic_write_bytes(path, text.encode("utf-8"))

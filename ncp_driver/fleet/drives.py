"""The drives of a fleet evaluation: bags, folders of bags, globs and manifest files.

A DRIVE argument is

- a bag: a ROS 1 ``.bag``, a ROS 2 ``.db3``/``.mcap`` file, or a ROS 2 bag folder (a folder with
  ``metadata.yaml``, or a folder holding exactly one ``.db3``/``.mcap`` and no subfolder);
- a folder of drives: any other folder; every bag below it (searched recursively, bag folders
  are not entered) is one drive;
- a glob (``drives/2026-*/``, ``**/*.mcap``): each match as above;
- a manifest: a ``.json``, ``.txt`` or ``.manifest`` file listing drives with tags.

A manifest in text form has one drive per line, a path and then ``KEY=VALUE`` tags; ``#`` starts a
comment; a relative path is relative to the manifest's folder::

    # path                      tags
    bags/2026-11-02_rain        weather=rain road=urban
    bags/2026-11-03.mcap        weather=dry road=highway name=highway-run

In JSON: ``{"drives": [{"path": "...", "tags": {"weather": "rain"}, "name": "..."}]}`` (or the
list alone). The tag ``name`` (or the ``name`` key) names the drive in the tables; the default
is the bag's file or folder name, made unique with a number.
"""

from __future__ import annotations

import glob
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ncp_driver.fleet.errors import FleetError

__all__ = ["BAG_SUFFIXES", "MANIFEST_SUFFIXES", "DriveSpec", "find_drives", "read_manifest"]

BAG_SUFFIXES = (".bag", ".db3", ".mcap")
MANIFEST_SUFFIXES = (".json", ".txt", ".manifest")
_GLOB = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class DriveSpec:
    """One drive: a bag (file or ROS 2 folder), its name and its tags."""

    name: str
    path: Path
    tags: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "tags": dict(self.tags)}


def is_bag(path: Path) -> bool:
    """A bag file, or a ROS 2 bag folder (``metadata.yaml``, or one storage file alone)."""
    if path.is_file():
        return path.suffix in BAG_SUFFIXES
    if not path.is_dir():
        return False
    if (path / "metadata.yaml").is_file():
        return True
    entries = list(path.iterdir())
    storage = [p for p in entries if p.is_file() and p.suffix in (".db3", ".mcap")]
    return len(storage) == 1 and not any(p.is_dir() for p in entries)


def _bags_below(folder: Path) -> list[Path]:
    found: list[Path] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if is_bag(entry):
            found.append(entry)
        elif entry.is_dir():
            found.extend(_bags_below(entry))
    return found


def _expand(path: Path) -> list[Path]:
    """The bags one path names: itself, or the bags below a folder of drives."""
    if is_bag(path):
        return [path]
    if path.is_dir():
        bags = _bags_below(path)
        if not bags:
            raise FleetError(
                f"{path} is a folder with no bag below it (.bag, .db3, .mcap or a ROS 2 bag "
                "folder): give bags, folders of bags, a glob or a manifest"
            )
        return bags
    if path.exists():
        raise FleetError(
            f"{path}: not a bag ({', '.join(BAG_SUFFIXES)} or a ROS 2 bag folder) nor a manifest "
            f"({', '.join(MANIFEST_SUFFIXES)})"
        )
    raise FleetError(f"{path} does not exist: give bags, folders of bags, a glob or a manifest")


def _tags(items: Iterable[str], where: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise FleetError(f"{where}: {item!r} is not a KEY=VALUE tag")
        tags[key.strip()] = value.strip()
    return tags


def read_manifest(path: Path) -> list[tuple[Path, dict[str, str]]]:
    """(bag path, tags) per entry of a manifest; paths resolved against its folder."""
    base = path.parent
    entries: list[tuple[Path, dict[str, str]]] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FleetError(f"manifest {path} cannot be read: {exc}") from exc
    if path.suffix == ".json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FleetError(f"manifest {path} is not valid JSON: {exc}") from exc
        items = doc.get("drives") if isinstance(doc, dict) else doc
        if not isinstance(items, list):
            raise FleetError(f'manifest {path}: give {{"drives": [{{"path": ...}}, ...]}}')
        for n, item in enumerate(items, start=1):
            if isinstance(item, str):
                item = {"path": item}
            if not isinstance(item, dict) or not isinstance(item.get("path"), str):
                raise FleetError(f"manifest {path}, drive {n}: needs a string 'path'")
            tags = item.get("tags") or {}
            if not isinstance(tags, dict):
                raise FleetError(f"manifest {path}, drive {n}: 'tags' must be an object")
            tags = {str(k): str(v) for k, v in tags.items()}
            if "name" in item:
                tags["name"] = str(item["name"])
            entries.append((base / item["path"], tags))
        return entries
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        entries.append((base / words[0], _tags(words[1:], f"manifest {path} line {number}")))
    return entries


def _is_manifest(path: Path) -> bool:
    return path.is_file() and path.suffix in MANIFEST_SUFFIXES


def find_drives(arguments: Sequence[str | Path]) -> list[DriveSpec]:
    """Every drive the arguments name, in order, each bag once; names made unique."""
    found: list[tuple[Path, dict[str, str]]] = []
    for argument in arguments:
        text = str(argument)
        if _GLOB.search(text) and not Path(text).exists():
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise FleetError(f"the glob {text!r} matches nothing")
            for match in matches:
                found.extend((bag, {}) for bag in _expand(Path(match)))
            continue
        path = Path(text)
        if _is_manifest(path):
            for bag, tags in read_manifest(path):
                found.extend((b, dict(tags)) for b in _expand(bag))
        else:
            found.extend((bag, {}) for bag in _expand(path))
    if not found:
        raise FleetError("no drives given: name bags, folders of bags, globs or a manifest")
    seen: dict[Path, int] = {}
    unique: list[tuple[Path, dict[str, str]]] = []
    for bag, tags in found:
        key = bag.resolve()
        if key in seen:
            unique[seen[key]][1].update(tags)  # the same bag twice: one drive, tags merged
            continue
        seen[key] = len(unique)
        unique.append((bag, tags))
    drives: list[DriveSpec] = []
    names: set[str] = set()
    for bag, tags in unique:
        base = tags.pop("name", None) or (bag.stem if bag.is_file() else bag.name)
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base}-{n}"
        names.add(name)
        drives.append(DriveSpec(name, bag, tags))
    return drives

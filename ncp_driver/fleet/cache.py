"""The resumable cache: a drive already evaluated with the same model, settings and bag content
is not replayed again.

Layout under the cache folder (default ``OUT/cache``)::

    replays/<key>/       one replay directory per (drive, model) (ncp_driver.replay.layout)
    context/<key>.json   the drive's recorded takeovers and lateral discomfort (model-free)
    bag-hashes.json      content hashes of bags by (path, size, mtime), so a re-run does not
                         read every bag again to hash it

A replay's key is the SHA-256 of the model file's SHA-256, the replay settings, the outputs asked
for, the bag's content hash (every file of the bag, in name order) and :data:`CACHE_VERSION`.
Entries are written atomically (complete or absent). A bag changed in place with its size and
modification time kept would be taken from the memo: touch it, or pass ``--no-cache``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from ncp_driver.atomic import atomic_write_text
from ncp_driver.replay import ReplaySettings

__all__ = [
    "CACHE_VERSION",
    "bag_files",
    "content_hash",
    "context_key",
    "file_sha256",
    "replay_key",
    "settings_document",
]

CACHE_VERSION = 1
_CHUNK = 1 << 20
_MEMO = "bag-hashes.json"
_memo_lock = threading.Lock()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def bag_files(path: Path) -> list[Path]:
    """The files that make up a bag: itself, or every file of a bag folder (name order)."""
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file())


def _stat_key(files: list[Path]) -> str:
    parts = []
    for f in files:
        st = f.stat()
        parts.append(f"{f.resolve()}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def content_hash(path: Path) -> str:
    """SHA-256 over the bag's files (relative names and bytes)."""
    path = Path(path)
    digest = hashlib.sha256()
    root = path if path.is_dir() else path.parent
    for f in bag_files(path):
        digest.update(str(f.relative_to(root)).encode() + b"\0")
        digest.update(file_sha256(f).encode())
    return digest.hexdigest()


def remember(cache_dir: Path, hashes: dict[Path, str]) -> None:
    """Add bags' content hashes to the memo (by the files' path, size and modification time)."""
    if not hashes:
        return
    with _memo_lock:
        memo = _read_memo(cache_dir / _MEMO)
        for path, value in hashes.items():
            try:
                memo[_stat_key(bag_files(path))] = value
            except OSError:
                continue
        atomic_write_text(cache_dir / _MEMO, json.dumps(memo, indent=1, sort_keys=True) + "\n")


def _read_memo(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def lookup_memo(path: Path, cache_dir: Path) -> str | None:
    """The memoised content hash of a bag, or None (never reads the bag's bytes)."""
    try:
        stat = _stat_key(bag_files(path))
    except OSError:
        return None
    value = _read_memo(cache_dir / _MEMO).get(stat)
    return str(value) if value is not None else None


def settings_document(settings: ReplaySettings) -> dict[str, Any]:
    """The replay settings that shape the results, JSON-ready (the model path left out)."""
    doc = dataclasses.asdict(settings)
    doc.pop("model")
    doc["pipeline"].pop("model_path", None)
    doc["msg_dirs"] = [str(p) for p in settings.msg_dirs]
    return json.loads(json.dumps(doc, default=str))


def _key(doc: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32]


def replay_key(
    model_sha256: str, settings: ReplaySettings, outputs: dict[str, Any], bag_hash: str
) -> str:
    return _key(
        {
            "version": CACHE_VERSION,
            "model": model_sha256,
            "settings": settings_document(settings),
            "outputs": outputs,
            "bag": bag_hash,
        }
    )


def context_key(settings: ReplaySettings, bag_hash: str) -> str:
    doc = settings_document(settings)
    return _key(
        {
            "version": CACHE_VERSION,
            "context": True,
            "auto": doc["auto_topic"],
            "gps": doc["gps_topic"],
            "msg_dirs": doc["msg_dirs"],
            "bag": bag_hash,
        }
    )


def replay_entry(cache_dir: Path, key: str) -> Path:
    return cache_dir / "replays" / key


def context_entry(cache_dir: Path, key: str) -> Path:
    return cache_dir / "context" / f"{key}.json"


def is_complete(cache_dir: Path, replay_keys: list[str], ctx_key: str) -> bool:
    return context_entry(cache_dir, ctx_key).is_file() and all(
        replay_entry(cache_dir, k).is_dir() for k in replay_keys
    )


def ensure_dir(path: Path) -> Path:
    os.makedirs(path, exist_ok=True)
    return path

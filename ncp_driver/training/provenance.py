"""The identity of the training data, stored in checkpoints and in the exported model."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["HASH_WHOLE_FILE_BELOW", "data_identity", "file_identity"]

HASH_WHOLE_FILE_BELOW = 64 * 1024 * 1024  # larger files: sha256 of the first MiB only
_HEAD_BYTES = 1024 * 1024


def file_identity(path: Path) -> dict[str, Any]:
    """Name, size and sha256 (of the whole file, or of its first MiB when it is large)."""
    path = Path(path)
    size = path.stat().st_size
    digest = hashlib.sha256()
    whole = size < HASH_WHOLE_FILE_BELOW
    with path.open("rb") as handle:
        if whole:
            for block in iter(lambda: handle.read(_HEAD_BYTES), b""):
                digest.update(block)
        else:
            digest.update(handle.read(_HEAD_BYTES))
    return {
        "name": path.name,
        "size_bytes": size,
        "sha256": digest.hexdigest(),
        "sha256_of": "file" if whole else "first 1 MiB",
    }


def data_identity(
    train: Sequence[Path], val: Sequence[Path], test: Sequence[Path] = (), **details: Any
) -> dict[str, Any]:
    """JSON-ready identity of every file used (each file hashed once)."""
    cache: dict[Path, dict[str, Any]] = {}

    def identities(paths: Sequence[Path]) -> list[dict[str, Any]]:
        out = []
        for path in paths:
            key = Path(path).resolve()
            if key not in cache:
                cache[key] = file_identity(key)
            out.append(cache[key])
        return out

    return {
        "train": identities(train),
        "val": identities(val),
        "test": identities(test),
        **details,
    }

"""Write bags in the three formats (ROS 1 ``.bag``, ROS 2 sqlite3, ROS 2 MCAP) with rosbags.

Used by tests, the benchmark and tools that produce bags. A bag appears under its final name only
when it is closed; an error leaves nothing behind. Messages are built with :meth:`BagWriter.message`
from plain values (nested dicts, lists), missing fields taking their zero value.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from rosbags.interfaces import Nodetype
from rosbags.rosbag1 import Writer as Writer1
from rosbags.rosbag2 import StoragePlugin
from rosbags.rosbag2 import Writer as Writer2
from rosbags.typesys import Stores
from rosbags.typesys.store import Typestore

from ncp_driver.atomic import partial_path, remove_stale_partials
from ncp_driver.bags.errors import BagError
from ncp_driver.bags.output import check_new
from ncp_driver.bags.typestore import make_typestore

__all__ = ["BAG_FORMATS", "BagWriter", "make_message"]

BAG_FORMATS = ("rosbag1", "sqlite3", "mcap")

_NUMPY_TYPES: dict[str, type] = {
    "bool": np.bool_,
    "byte": np.uint8,
    "char": np.uint8,
    "octet": np.uint8,
    "uint8": np.uint8,
    "int8": np.int8,
    "uint16": np.uint16,
    "int16": np.int16,
    "uint32": np.uint32,
    "int32": np.int32,
    "uint64": np.uint64,
    "int64": np.int64,
    "float32": np.float32,
    "float64": np.float64,
}


def _scalar_default(typename: str) -> Any:
    if typename == "string":
        return ""
    if typename == "bool":
        return False
    if typename.startswith("float"):
        return 0.0
    return 0


def _value(store: Typestore, node: tuple[Any, Any], given: Any) -> Any:
    """The field value for ``node`` from ``given`` (or its default if ``given`` is None)."""
    kind, detail = node
    if kind == Nodetype.BASE:
        typename = detail[0]
        return _scalar_default(typename) if given is None else given
    if kind == Nodetype.NAME:
        if given is None:
            return make_message(store, detail)
        if isinstance(given, dict):
            return make_message(store, detail, **given)
        return given
    if kind in (Nodetype.ARRAY, Nodetype.SEQUENCE):
        (subkind, subdetail), length = detail
        if subkind == Nodetype.BASE and subdetail[0] in _NUMPY_TYPES:
            dtype = _NUMPY_TYPES[subdetail[0]]
            if given is None:
                return np.zeros(length if kind == Nodetype.ARRAY else 0, dtype=dtype)
            return np.asarray(given, dtype=dtype)
        if given is None:
            count = length if kind == Nodetype.ARRAY else 0
            return [_value(store, (subkind, subdetail), None) for _ in range(count)]
        return [_value(store, (subkind, subdetail), item) for item in given]
    raise BagError(f"unsupported field kind {kind} in a message definition")


def make_message(store: Typestore, msgtype: str, **fields: Any) -> Any:
    """A message of ``msgtype`` from ``store``; nested messages may be given as dicts."""
    try:
        _, definition = store.fielddefs[msgtype]
        cls = store.types[msgtype]
    except KeyError as exc:
        raise BagError(
            f"message type {msgtype!r} is unknown: add its .msg file with --msg-dir"
        ) from exc
    names = [name for name, _ in definition]
    unknown = set(fields) - set(names)
    if unknown:
        raise BagError(f"{msgtype} has no field(s) {sorted(unknown)}; its fields: {names}")
    return cls(**{name: _value(store, node, fields.get(name)) for name, node in definition})


class BagWriter:
    """A new bag: ``rosbag1`` (a ``.bag`` file), ``sqlite3`` or ``mcap`` (a ROS 2 bag folder).

    ``compression`` is ``bz2`` or ``lz4`` for ROS 1 chunks; ``version`` the rosbag2 metadata
    version (8 or 9). Connections are added on the first message of each topic. Use as a
    context manager: the bag gets its final name only when complete.
    """

    def __init__(
        self,
        path: Path | str,
        fmt: str = "sqlite3",
        compression: str | None = None,
        msg_dirs: Iterable[Path] = (),
        force: bool = False,
        version: int = 9,
    ) -> None:
        if fmt not in BAG_FORMATS:
            raise BagError(f"bag format {fmt!r} is not one of {BAG_FORMATS}")
        self.path = Path(path)
        self.fmt = fmt
        if fmt == "rosbag1" and self.path.suffix != ".bag":
            raise BagError(f"{self.path}: a ROS 1 bag's name must end in .bag")
        check_new([self.path], force)
        self.force = force
        self.typestore = make_typestore(
            msg_dirs, store=Stores.ROS1_NOETIC if fmt == "rosbag1" else Stores.ROS2_HUMBLE
        )
        remove_stale_partials(self.path)
        self._staging = partial_path(self.path)
        if self._staging.exists():
            shutil.rmtree(self._staging)
        self._staging.mkdir(parents=True)
        inner = self._staging / self.path.name
        self._writer: Writer1 | Writer2
        if fmt == "rosbag1":
            self._writer = Writer1(inner)
            if compression:
                if compression not in ("bz2", "lz4"):
                    raise BagError(f"ROS 1 chunk compression {compression!r} is not bz2 or lz4")
                self._writer.set_compression(Writer1.CompressionFormat[compression.upper()])
        else:
            plugin = StoragePlugin.MCAP if fmt == "mcap" else StoragePlugin.SQLITE3
            if version not in (8, 9):
                raise BagError(f"rosbag2 version {version} must be 8 or 9 (what rosbags writes)")
            self._writer = Writer2(inner, version=version, storage_plugin=plugin)  # type: ignore[arg-type]
        self._writer.open()
        self._connections: dict[str, Any] = {}
        self.count = 0

    def message(self, msgtype: str, **fields: Any) -> Any:
        """Build a message of ``msgtype`` (missing fields take their zero value)."""
        return make_message(self.typestore, msgtype, **fields)

    def write(self, topic: str, msgtype: str, stamp_ns: int, message: Any) -> None:
        """Append ``message`` on ``topic`` at record time ``stamp_ns``."""
        conn = self._connections.get(topic)
        if conn is None:
            conn = self._writer.add_connection(topic, msgtype, typestore=self.typestore)
            self._connections[topic] = conn
        elif conn.msgtype != msgtype:
            raise BagError(f"{self.path}: topic {topic} is {conn.msgtype}, not {msgtype}")
        if self.fmt == "rosbag1":
            data = self.typestore.serialize_ros1(message, msgtype)
        else:
            data = self.typestore.serialize_cdr(message, msgtype)
        self.write_raw(topic, stamp_ns, data)

    def write_raw(self, topic: str, stamp_ns: int, data: bytes | memoryview) -> None:
        """Append already serialised ``data`` on a topic that has had a message."""
        self._writer.write(self._connections[topic], int(stamp_ns), data)
        self.count += 1

    def close(self) -> Path:
        """Finish the bag and give it its final name."""
        self._writer.close()
        check_new([self.path], self.force)
        if self.path.exists():
            if self.path.is_dir():
                shutil.rmtree(self.path)
            else:
                self.path.unlink()
        os.replace(self._staging / self.path.name, self.path)
        shutil.rmtree(self._staging)
        return self.path

    def abort(self) -> None:
        """Drop the unfinished bag."""
        try:
            if self.fmt == "rosbag1":
                bio = getattr(self._writer, "bio", None)
                if bio is not None:
                    bio.close()
            else:
                self._writer.close()
        except Exception:  # the bag is discarded anyway
            pass
        shutil.rmtree(self._staging, ignore_errors=True)

    def __enter__(self) -> BagWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

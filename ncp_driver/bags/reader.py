"""One recording made of one or more bags, read as a single stream in time order.

Built on ``rosbags``' AnyReader. Accepts ROS 1 ``.bag`` files (uncompressed, bz2, lz4 chunks),
ROS 2 bag folders (sqlite3 or MCAP, split into several files, with metadata.yaml), and bare
``.db3``/``.mcap`` files or folders of them without metadata.yaml. Several inputs, even of
different formats, are merged by record time.

Message types come from the bags' own definitions; types a bag does not define are taken from
:func:`ncp_driver.bags.typestore.make_typestore` (ROS 2 standard messages, ackermann_msgs and the
user's ``--msg-dir`` folders). A message that does not deserialise is skipped and counted in
:attr:`Recording.skipped`; a file that cannot be read raises :class:`BagError` naming the file
and the repair to try.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, NamedTuple, cast

from rosbags.highlevel import AnyReader
from rosbags.interfaces import Nodetype
from rosbags.rosbag1 import Reader as Reader1
from rosbags.rosbag1.reader import decompressors as ros1_decompressors
from rosbags.rosbag2 import Reader as Reader2
from rosbags.typesys.store import Typestore

from ncp_driver.bags.errors import BagError, MessageTypeError, MissingBagError, TopicError
from ncp_driver.bags.typestore import make_typestore
from ncp_driver.images import IMAGE_TYPES, read_image

__all__ = [
    "BagMessage",
    "RawMessage",
    "Recording",
    "TopicInfo",
    "bag_inputs",
    "read_messages",
]

ROS1_SUFFIX = ".bag"
ROS2_SUFFIXES = (".db3", ".mcap")


class TopicInfo(NamedTuple):
    """A topic across all bags of a recording."""

    name: str
    msgtype: str | None  # None when the bags disagree on the type
    msgcount: int


class RawMessage(NamedTuple):
    """A message as stored: ``data`` is serialised (CDR or ROS 1)."""

    topic: str
    stamp_ns: int  # record time in the bag, ns since the epoch
    msgtype: str
    data: bytes


class BagMessage(NamedTuple):
    """A deserialised message; ``stamp_ns`` is the record time in the bag (ns)."""

    topic: str
    stamp_ns: int
    msgtype: str
    message: Any


def bag_inputs(path: Path) -> tuple[str, list[Path]]:
    """Classify one command-line input: (``"ros1"`` or ``"ros2"``, paths for rosbags).

    A folder without metadata.yaml contributes each of its ``.db3``/``.mcap`` files.
    """
    path = Path(path)
    if not path.exists():
        raise MissingBagError(
            f"{path} does not exist: give a .bag file, a .db3/.mcap file or a bag folder"
        )
    if path.name.endswith(".bag.active"):
        raise BagError(
            f"{path} is a ROS 1 recording that was never closed (rosbag record was killed): "
            f"rebuild its index with `rosbag reindex {path}` (Debian: apt install python3-rosbag) "
            "and read the resulting .bag"
        )
    if path.is_dir():
        if (path / "metadata.yaml").exists():
            return "ros2", [path]
        parts = sorted(p for p in path.iterdir() if p.suffix in ROS2_SUFFIXES)
        if not parts:
            raise BagError(
                f"{path} is a folder with neither metadata.yaml nor .db3/.mcap files: "
                "give a ROS 2 bag folder, a .db3/.mcap file or a ROS 1 .bag"
            )
        return "ros2", parts
    if path.suffix == ROS1_SUFFIX:
        return "ros1", [path]
    if path.suffix in ROS2_SUFFIXES:
        return "ros2", [path]
    raise BagError(
        f"{path}: unknown bag format (suffix {path.suffix!r}): expected .bag (ROS 1), "
        ".db3 or .mcap (ROS 2), or a ROS 2 bag folder"
    )


def _repair_hint(path: Path, problem: str) -> str:
    """What to do about a file rosbags refused, from rosbags' message."""
    text = problem.lower()
    if path.suffix == ROS1_SUFFIX:
        if "not indexed" in text:
            return (
                "the recording was not closed properly (no index): rebuild the index with "
                f"`rosbag reindex {path}` (Debian: apt install python3-rosbag) and retry"
            )
        return (
            "the file looks truncated or damaged: if the recording was cut short, "
            f"`rosbag reindex {path}` (Debian: apt install python3-rosbag) recovers the "
            "complete chunks; then retry"
        )
    if path.suffix == ".mcap" or "mcap" in text or "magic" in text:
        return (
            "the MCAP file looks cut short or damaged (no valid footer/summary): recover what it "
            f"holds with `mcap recover {path} -o recovered.mcap` (foxglove mcap CLI) and read that"
        )
    if "metadata" in text or "yaml" in text:
        return (
            "metadata.yaml is missing parts or damaged: give the .db3/.mcap files themselves "
            "(they are read without metadata), or restore metadata.yaml"
        )
    if "database" in text or path.suffix == ".db3":
        return (
            "the sqlite3 file is not a ROS 2 bag or is damaged: try "
            f"`sqlite3 {path} .recover | sqlite3 recovered.db3` and read recovered.db3"
        )
    return "check that the file is a complete ROS bag"


def _probe(kind: str, path: Path) -> str | None:
    """rosbags' complaint about one file, or None if it opens."""
    try:
        if kind == "ros1":
            with Reader1(path):
                pass
        else:
            with Reader2(path):
                pass
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _format_of(reader: Reader1 | Reader2) -> str:
    if isinstance(reader, Reader1):
        by_function = {id(func): name for name, func in ros1_decompressors.items()}
        chunks = getattr(reader, "chunks", None) or {}
        names = {by_function.get(id(c.decompressor), "?") for c in chunks.values()}
        return "rosbag1" + (f" ({'+'.join(sorted(names))} chunks)" if names else "")
    storages = getattr(reader.storage, "storages", None) or [reader.storage]
    kinds = sorted({type(s).__name__.replace("Reader", "").lower() for s in storages})
    return f"rosbag2 {'+'.join(kinds)}"


class _LazyStore:
    """AnyReader's ``default_typestore``, built only if a bag has no definitions at all."""

    def __init__(self, build: Callable[[], Typestore]) -> None:
        self._build = build

    @property
    def fielddefs(self) -> Any:
        return self._build().fielddefs


def _dependencies(store: Typestore, msgtype: str, have: Collection[str]) -> dict[str, Any]:
    """``msgtype`` and the types it uses, as field definitions, leaving out those in ``have``."""
    found: dict[str, Any] = {}
    todo = [msgtype]
    while todo:
        name = todo.pop()
        if name in found or name in have or name not in store.fielddefs:
            continue
        found[name] = store.fielddefs[name]
        for _, (kind, detail) in found[name][1]:
            if kind == Nodetype.NAME:
                todo.append(detail)
            elif kind in (Nodetype.ARRAY, Nodetype.SEQUENCE) and detail[0][0] == Nodetype.NAME:
                todo.append(detail[0][1])
    return found


class _Group:
    """One AnyReader over bags of one kind (rosbags cannot mix ROS 1 and ROS 2 in one)."""

    def __init__(self, kind: str, paths: list[Path], store: Callable[[], Typestore]) -> None:
        self.kind = kind
        self.paths = paths
        self.store = store
        self.reader: AnyReader | None = None

    def open(self, stack: ExitStack) -> AnyReader:
        try:
            lazy = cast(Typestore, _LazyStore(self.store))
            reader = AnyReader(self.paths, default_typestore=lazy)
            stack.enter_context(reader)
        except BagError:  # our own type store failed (a bad --msg-dir): already explained
            raise
        except Exception as exc:
            for path in self.paths:
                problem = _probe(self.kind, path)
                if problem is not None:
                    raise BagError(
                        f"{path}: cannot read this bag ({problem}); {_repair_hint(path, problem)}"
                    ) from exc
            names = ", ".join(str(p) for p in self.paths)
            raise BagError(
                f"{names}: cannot read these bags together ({type(exc).__name__}: {exc}); "
                "read them one at a time to find the faulty one"
            ) from exc
        self.reader = reader
        return reader

    def known(self, msgtype: str) -> bool:
        """Whether ``msgtype`` can be deserialised; a type the bags do not define is taken from
        our store (ROS 2 messages, ackermann_msgs, --msg-dir) when it has it."""
        assert self.reader is not None
        have = self.reader.typestore.fielddefs
        if msgtype in have:
            return True
        missing = _dependencies(self.store(), msgtype, have)
        if msgtype not in missing:
            return False
        self.reader.typestore.register(missing)
        return True


class Recording:
    """Bags read together as one recording, in record-time order. Use as a context manager.

    ``paths`` may mix ROS 1 and ROS 2 inputs; ``msg_dirs`` are folders of ``<pkg>/msg/*.msg``
    for types the bags do not define.
    """

    def __init__(self, paths: Sequence[Path | str], msg_dirs: Iterable[Path | str] = ()) -> None:
        if not paths:
            raise BagError("no bag given: name at least one .bag, .db3, .mcap file or bag folder")
        self.paths = [Path(p) for p in paths]
        self.msg_dirs = [Path(d) for d in msg_dirs]
        for folder in self.msg_dirs:
            if not folder.is_dir():
                raise MessageTypeError(
                    f"message directory {folder} does not exist: give a folder holding "
                    "<pkg>/msg/*.msg"
                )
        self._store: Typestore | None = None
        grouped: dict[str, list[Path]] = {"ros1": [], "ros2": []}
        for path in self.paths:
            kind, parts = bag_inputs(path)
            grouped[kind].extend(parts)
        self._groups = [_Group(k, v, self._typestore) for k, v in grouped.items() if v]
        self._stack: ExitStack | None = None
        self.skipped: Counter[str] = Counter()
        self.skip_reasons: dict[str, str] = {}

    def _typestore(self) -> Typestore:
        """Our type store, built on first need (it takes a noticeable fraction of a second)."""
        if self._store is None:
            self._store = make_typestore(self.msg_dirs)
        return self._store

    # -- opening -----------------------------------------------------------------------------
    def open(self) -> Recording:
        if self._stack is not None:
            raise BagError(f"{self.describe()} is already open")
        stack = ExitStack()
        try:
            for group in self._groups:
                group.open(stack)
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        return self

    def close(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def __enter__(self) -> Recording:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _readers(self) -> list[tuple[_Group, AnyReader]]:
        if self._stack is None:
            raise BagError(f"{self.describe()} is not open: use `with Recording(...) as rec:`")
        return [(g, g.reader) for g in self._groups if g.reader is not None]

    # -- summary -----------------------------------------------------------------------------
    def describe(self) -> str:
        """The inputs, for messages."""
        return ", ".join(str(p) for p in self.paths)

    @property
    def formats(self) -> list[str]:
        """Storage format of each underlying bag file, e.g. ``rosbag1 (bz2 chunks)``."""
        out: list[str] = []
        for _, reader in self._readers():
            out.extend(_format_of(r) for r in reader.readers)
        return out

    @property
    def files(self) -> list[Path]:
        """The bag files and folders actually opened."""
        return [p for g in self._groups for p in g.paths]

    @property
    def start_ns(self) -> int:
        """Record time of the first message (ns); 0 for an empty recording."""
        starts = [r.start_time for _, r in self._readers() if r.message_count]
        return min(starts) if starts else 0

    @property
    def end_ns(self) -> int:
        """Record time of the last message (ns); 0 for an empty recording."""
        ends = [r.end_time - 1 for _, r in self._readers() if r.message_count]
        return max(ends) if ends else 0

    @property
    def message_count(self) -> int:
        return sum(r.message_count for _, r in self._readers())

    @property
    def topics(self) -> dict[str, TopicInfo]:
        """Every topic, sorted by name, with its type and message count."""
        types: dict[str, set[str]] = {}
        counts: Counter[str] = Counter()
        for _, reader in self._readers():
            for conn in reader.connections:
                types.setdefault(conn.topic, set()).add(conn.msgtype)
                counts[conn.topic] += conn.msgcount
        return {
            name: TopicInfo(name, next(iter(t)) if len(t) == 1 else None, counts[name])
            for name, t in sorted(types.items())
        }

    def msgtype(self, topic: str) -> str:
        """The type of ``topic``; raises :class:`TopicError` if absent or inconsistent."""
        info = self.topics.get(topic)
        if info is None:
            raise TopicError(
                f"{self.describe()} has no topic {topic!r}; its topics: {self.topic_list()}"
            )
        if info.msgtype is None:
            raise TopicError(
                f"{self.describe()}: topic {topic!r} has different types in different bags; "
                "read the bags separately"
            )
        return info.msgtype

    def topic_list(self) -> str:
        """``name (type, count)`` for every topic, for error messages."""
        items = [f"{t.name} ({t.msgtype}, {t.msgcount})" for t in self.topics.values()]
        return "; ".join(items) if items else "none (the bag is empty)"

    def count(self, topics: Collection[str]) -> int:
        """Messages stored on ``topics``."""
        all_topics = self.topics
        return sum(all_topics[t].msgcount for t in topics if t in all_topics)

    # -- reading -----------------------------------------------------------------------------
    def _check_topics(self, topics: Collection[str], deserialise: bool) -> None:
        for topic in topics:
            msgtype = self.msgtype(topic)
            if not deserialise:
                continue
            for group, reader in self._readers():
                if any(c.topic == topic for c in reader.connections) and not group.known(msgtype):
                    raise MessageTypeError(
                        f"{', '.join(map(str, group.paths))}: topic {topic!r} has type "
                        f"{msgtype!r}, which neither the bag nor the built-in types define: "
                        f"pass --msg-dir DIR where DIR holds {msgtype.split('/')[0]}/msg/"
                        f"{msgtype.split('/')[-1]}.msg"
                    )

    def _merged(
        self, topics: Collection[str], start_ns: int | None, stop_ns: int | None
    ) -> Iterator[tuple[int, str, str, bytes, AnyReader, _Group]]:
        wanted = set(topics)
        streams = []
        for group, reader in self._readers():
            conns = [c for c in reader.connections if c.topic in wanted]
            if conns:
                streams.append(self._stream(group, reader, conns, start_ns, stop_ns))
        if len(streams) == 1:
            yield from streams[0]
        else:
            yield from heapq.merge(*streams, key=lambda item: item[0])

    @staticmethod
    def _stream(
        group: _Group,
        reader: AnyReader,
        conns: list[Any],
        start_ns: int | None,
        stop_ns: int | None,
    ) -> Iterator[tuple[int, str, str, bytes, AnyReader, _Group]]:
        try:
            for conn, stamp, data in reader.messages(conns, start=start_ns, stop=stop_ns):
                yield stamp, conn.topic, conn.msgtype, data, reader, group
        except BagError:
            raise
        except Exception as exc:
            names = ", ".join(map(str, group.paths))
            path = group.paths[0]
            raise BagError(
                f"{names}: reading stopped part-way ({type(exc).__name__}: {exc}); "
                f"{_repair_hint(path, str(exc))}"
            ) from exc

    def raw(
        self, topics: Collection[str], start_ns: int | None = None, stop_ns: int | None = None
    ) -> Iterator[RawMessage]:
        """Serialised messages on ``topics`` in record-time order (nothing is deserialised)."""
        self._check_topics(topics, deserialise=False)
        for stamp, topic, msgtype, data, _, _ in self._merged(topics, start_ns, stop_ns):
            yield RawMessage(topic, stamp, msgtype, data)

    def messages(
        self, topics: Collection[str], start_ns: int | None = None, stop_ns: int | None = None
    ) -> Iterator[BagMessage]:
        """Deserialised messages on ``topics`` in record-time order.

        A message that does not deserialise is skipped; :attr:`skipped` counts them per topic
        and :attr:`skip_reasons` keeps the first reason per topic.
        """
        self._check_topics(topics, deserialise=True)
        for stamp, topic, msgtype, data, reader, _ in self._merged(topics, start_ns, stop_ns):
            try:
                if reader.is2 and msgtype in IMAGE_TYPES:
                    # Camera frames of ROS 2 bags: the car's own CDR reader (the node reads the
                    # frames it receives with it), pixels a read-only view of the payload.
                    message: Any = read_image(memoryview(data), msgtype)
                else:
                    # A memoryview spares rosbags a copy of each payload; array fields of the
                    # message are then read-only views of it.
                    message = reader.deserialize(memoryview(data), msgtype)  # type: ignore[arg-type]
            except Exception as exc:  # any decoding failure of one message: skip and count
                self.skipped[topic] += 1
                self.skip_reasons.setdefault(topic, f"{type(exc).__name__}: {exc}")
                continue
            yield BagMessage(topic, stamp, msgtype, message)

    def skip_summary(self) -> str:
        """One line per topic with skipped messages (empty when none were skipped)."""
        return "\n".join(
            f"skipped {n} message(s) on {topic} that did not deserialise "
            f"(first: {self.skip_reasons.get(topic, '?')})"
            for topic, n in sorted(self.skipped.items())
        )


def read_messages(
    paths: Sequence[Path | str],
    topics: Collection[str],
    msg_dirs: Iterable[Path | str] = (),
    skipped: Counter[str] | None = None,
) -> Iterator[BagMessage]:
    """Stream ``(topic, stamp_ns, msgtype, message)`` for ``topics`` from bags, in time order.

    Bad messages are skipped; pass a Counter as ``skipped`` to learn how many per topic.
    """
    with Recording(paths, msg_dirs) as recording:
        yield from recording.messages(topics)
        if skipped is not None:
            skipped.update(recording.skipped)

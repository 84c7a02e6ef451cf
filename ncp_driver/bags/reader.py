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

A damaged bag never gives a silent short read: after every complete read of a set of topics the
messages read per topic are compared with the counts the bag declares (ROS 1 index, rosbag2
``metadata.yaml``, MCAP summary). A difference raises :class:`IncompleteBagError` naming the
topics, how many messages were lost and where the largest gap in what was read lies, unless the
recording was opened with ``allow_partial``: then the losses are kept in :attr:`Recording.losses`
for the results to report. A file that declares no counts (a bare ``.db3``, an MCAP without a
summary) is read to the end and listed in :attr:`Recording.unchecked`.
"""

from __future__ import annotations

import heapq
import struct
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, cast

from rosbags.highlevel import AnyReader
from rosbags.interfaces import Nodetype
from rosbags.rosbag1 import Reader as Reader1
from rosbags.rosbag1.reader import decompressors as ros1_decompressors
from rosbags.rosbag2 import Reader as Reader2
from rosbags.typesys.store import Typestore

from ncp_driver.bags.errors import (
    BagError,
    IncompleteBagError,
    MessageTypeError,
    MissingBagError,
    TopicError,
)
from ncp_driver.bags.typestore import make_typestore
from ncp_driver.images import IMAGE_TYPES, read_image

__all__ = [
    "BagMessage",
    "RawMessage",
    "Recording",
    "TopicInfo",
    "TopicLoss",
    "bag_inputs",
    "data_files",
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


def data_files(path: Path) -> list[Path]:
    """The storage files of one input: the ``.db3``/``.mcap`` files of a bag folder, else itself."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in ROS2_SUFFIXES) or [path]
    return [path]


def _repair_hint(path: Path, problem: str, data_file: Path | None = None) -> str:
    """What to do about a file rosbags refused, from rosbags' message; names the data file
    (``data_file`` if known, else the folder's first ``.mcap``/``.db3``)."""
    text = problem.lower()
    if path.is_dir() and ("metadata" in text or "yaml" in text):
        return (
            f"{path / 'metadata.yaml'} is missing parts or damaged: give the .db3/.mcap files "
            "themselves (they are read without metadata), or restore metadata.yaml"
        )
    if data_file is None:
        files = data_files(path)
        mcaps = [f for f in files if f.suffix == ".mcap"] if "mcap" in text else []
        data_file = (mcaps or files)[0]
    path = data_file
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
            "the MCAP file looks cut short or damaged: recover what it holds with "
            f"`mcap recover {path} -o recovered.mcap` (foxglove mcap CLI) and read recovered.mcap"
        )
    if "database" in text or path.suffix == ".db3":
        return (
            "the sqlite3 file is not a ROS 2 bag or is damaged: try "
            f"`sqlite3 {path} .recover | sqlite3 recovered.db3` (Debian: apt install sqlite3) and "
            "read recovered.db3"
        )
    return "check that the file is a complete ROS bag"


@dataclass(frozen=True)
class TopicLoss:
    """Messages a bag declares on a topic that a complete read did not give (or gave beyond)."""

    topic: str
    files: tuple[str, ...]
    declared: int | None  # None: the files declare no counts (the read stopped with an error)
    read: int
    gap_from_ns: int  # the largest gap in what was read on the topic (where the loss most
    gap_to_ns: int  # likely lies): record times, ns
    start_ns: int  # the recording's first record time, for seconds into it
    error: str = ""  # what stopped the reading, when it stopped with an error

    @property
    def missing(self) -> int | None:
        return None if self.declared is None else self.declared - self.read

    def describe(self) -> str:
        missing = self.missing
        if missing is None:
            counted = f"read {self.read} messages of {', '.join(self.files)} (no declared count)"
        else:
            lost = (
                f"{missing} lost"
                if missing > 0
                else f"{-missing} more than declared"
                if missing < 0
                else "none lost"
            )
            counted = (
                f"read {self.read} of the {self.declared} messages {', '.join(self.files)} "
                f"declares ({lost})"
            )
        text = (
            f"{self.topic}: {counted}; the largest gap in what was read runs "
            f"from {(self.gap_from_ns - self.start_ns) * 1e-9:.3f} s to "
            f"{(self.gap_to_ns - self.start_ns) * 1e-9:.3f} s into the recording "
            f"(record times {self.gap_from_ns * 1e-9:.3f} to {self.gap_to_ns * 1e-9:.3f})"
        )
        return text + (f"; reading stopped: {self.error}" if self.error else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "files": list(self.files),
            "declared": self.declared,
            "read": self.read,
            "missing": self.missing,
            "gap_from_ns": self.gap_from_ns,
            "gap_to_ns": self.gap_to_ns,
            "gap_from_s": (self.gap_from_ns - self.start_ns) * 1e-9,
            "gap_to_s": (self.gap_to_ns - self.start_ns) * 1e-9,
            "error": self.error,
        }


class _Tally:
    """Messages read on one topic: how many, and the largest gap between record times."""

    def __init__(self, start_ns: int) -> None:
        self.count = 0
        self.last = start_ns
        self.gap = (start_ns, start_ns)

    def add(self, stamp_ns: int) -> None:
        self.count += 1
        if stamp_ns - self.last > self.gap[1] - self.gap[0]:
            self.gap = (self.last, stamp_ns)
        self.last = stamp_ns

    def largest_gap(self, end_ns: int) -> tuple[int, int]:
        if end_ns - self.last > self.gap[1] - self.gap[0]:
            return (self.last, end_ns)
        return self.gap


def _mcap_has_summary(path: Path) -> bool:
    """Whether an MCAP file's footer points to a summary (where its message counts are)."""
    try:
        with path.open("rb") as stream:
            stream.seek(-37, 2)
            footer = stream.read(37)
    except OSError:
        return False
    if len(footer) != 37 or footer[-8:] != b"\x89MCAP0\r\n":
        return False
    return struct.unpack_from("<Q", footer, 9)[0] != 0


def declares_counts(kind: str, path: Path) -> bool:
    """Whether an input declares its message counts per topic (ROS 1 index, rosbag2
    metadata.yaml, an MCAP summary); a bare ``.db3`` or an MCAP without summary does not."""
    path = Path(path)
    if kind == "ros1" or path.is_dir():
        return True
    return path.suffix == ".mcap" and _mcap_has_summary(path)


def _read_position(reader: AnyReader) -> str:
    """Where the underlying files were being read (``FILE at byte N``), for error messages."""
    places = []
    for bag in reader.readers:
        storage = getattr(bag, "storage", bag)
        for part in getattr(storage, "storages", None) or [storage]:
            bio, path = getattr(part, "bio", None), getattr(part, "path", None)
            if bio is None or path is None or bio.closed:
                continue
            offset = bio.tell()
            chunk = next(  # MCAP: a chunk is read whole, then parsed; name the chunk
                (
                    c
                    for c in getattr(part, "chunks", None) or []
                    if hasattr(c, "chunk_length")
                    and c.chunk_start_offset < offset <= c.chunk_start_offset + c.chunk_length
                ),
                None,
            )
            if chunk is not None:
                end = chunk.chunk_start_offset + chunk.chunk_length
                places.append(f"{path}, the chunk at bytes {chunk.chunk_start_offset}-{end}")
            else:
                places.append(f"{path} at byte {offset}")
    return "; ".join(places)


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
        self.declared = all(declares_counts(kind, p) for p in paths)

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
    for types the bags do not define. A complete read that gives other counts than the bag
    declares raises :class:`IncompleteBagError`; with ``allow_partial`` it is recorded in
    :attr:`losses` instead (see :meth:`integrity`).
    """

    def __init__(
        self,
        paths: Sequence[Path | str],
        msg_dirs: Iterable[Path | str] = (),
        allow_partial: bool = False,
    ) -> None:
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
        self.allow_partial = allow_partial
        self.losses: dict[tuple[str, tuple[str, ...]], TopicLoss] = {}
        self.unchecked: list[Path] = [p for g in self._groups if not g.declared for p in g.paths]

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

    def _stream(
        self,
        group: _Group,
        reader: AnyReader,
        conns: list[Any],
        start_ns: int | None,
        stop_ns: int | None,
    ) -> Iterator[tuple[int, str, str, bytes, AnyReader, _Group]]:
        first = reader.start_time if reader.message_count else 0
        tally = {c.topic: _Tally(first) for c in conns}
        error = ""
        try:
            for conn, stamp, data in reader.messages(conns, start=start_ns, stop=stop_ns):
                tally[conn.topic].add(stamp)
                yield stamp, conn.topic, conn.msgtype, data, reader, group
        except BagError:
            raise
        except Exception as exc:
            names = ", ".join(map(str, group.paths))
            where = _read_position(reader)
            error = (
                f"{names}: reading stopped part-way ({type(exc).__name__}: {exc}"
                f"{'; ' + where if where else ''}); {_repair_hint(group.paths[0], str(exc))}"
            )
            if not self.allow_partial:
                raise IncompleteBagError(error) from exc
        if start_ns is None and stop_ns is None:  # a complete read: compare with the declared
            self._verify(group, reader, tally, error)

    def _verify(
        self, group: _Group, reader: AnyReader, tally: dict[str, _Tally], error: str
    ) -> None:
        """Compare the messages read per topic with the counts ``group`` declares."""
        if not group.declared and not error:
            return
        declared: Counter[str] = Counter()
        for conn in reader.connections:
            if conn.topic in tally:
                declared[conn.topic] += conn.msgcount
        first = reader.start_time if reader.message_count else 0
        last = reader.end_time - 1 if reader.message_count else 0
        files = tuple(str(p) for p in group.paths)
        found = []
        for topic, seen in sorted(tally.items()):
            if seen.count != declared[topic] or error:
                gap = seen.largest_gap(last)
                count = declared[topic] if group.declared else None
                found.append(TopicLoss(topic, files, count, seen.count, *gap, first, error))
        found = [f for f in found if f.missing or f.error]
        if not found:
            return
        if not self.allow_partial:
            raise IncompleteBagError(
                "the bag is damaged or cut short: "
                + "; ".join(f.describe() for f in found)
                + f". {_repair_hint(group.paths[0], 'damaged')}; or pass --allow-partial to use "
                "what was read (the results then say they come from partial input)"
            )
        for loss in found:
            self.losses[(loss.topic, loss.files)] = loss

    def integrity(self) -> dict[str, Any]:
        """For results and ``--json``: whether the input was complete, what was lost, and which
        files declared no counts to check against."""
        return {
            "complete": not self.losses,
            "losses": [loss.to_json() for loss in self.losses.values()],
            "counts_unchecked": [str(p) for p in self.unchecked],
        }

    def integrity_summary(self) -> str:
        """Lines for the user: losses accepted with ``allow_partial``, unchecked files."""
        lines = [f"PARTIAL INPUT: {loss.describe()}" for loss in self.losses.values()]
        if self.unchecked:
            lines.append(
                f"{', '.join(map(str, self.unchecked))} declare(s) no message counts (no index, "
                "metadata.yaml or MCAP summary): read to the end; the counts could not be checked"
            )
        return "\n".join(lines)

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

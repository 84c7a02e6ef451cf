"""One ROS 2 MCAP file (a single ``.mcap``, not a rosbag2 folder), written atomically.

The one MCAP writer of the project: the replay's ``replay.mcap``, the synthetic drives and the
simulator write through it (via :class:`ncp_driver.bags.writer.BagWriter` or directly). It uses
the PyPI ``mcap`` writer with the ROS 2 profile: schemas are the ``ros2msg`` definitions that
rosbags generates from its type store, messages are CDR (rosbags' serialiser). The file opens in
Foxglove, in the ``mcap`` reader and in rosbags (``AnyReader([path])``) as it is.

The file is written under a hidden partial name beside the target and renamed when closed; an
error (or :meth:`McapWriter.abort`) leaves nothing with the final name.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from mcap.writer import CompressionType
from mcap.writer import Writer as _Writer
from rosbags.typesys.store import Typestore

from ncp_driver.bags.errors import BagError
from ncp_driver.bags.output import check_new, partial_name

__all__ = ["MCAP_COMPRESSIONS", "MCAP_SUFFIX", "McapWriter"]

MCAP_SUFFIX = ".mcap"
MCAP_COMPRESSIONS = ("zstd", "lz4", "none")
_LIBRARY = "ncp_driver (mcap-python)"


class McapWriter:
    """A new ROS 2 MCAP file at ``path`` (name ending in ``.mcap``).

    Channels are registered on the first message of each topic, with the schema generated from
    ``typestore``. ``metadata`` records (name -> {key: value}) carry what a viewer shows beside
    the topics (a model's hash, kind and preprocessing, ...). Use as a context manager.
    """

    def __init__(
        self,
        path: Path | str,
        typestore: Typestore,
        *,
        force: bool = False,
        compression: str = "none",
        chunk_size: int = 1 << 20,
    ) -> None:
        self.path = Path(path)
        if self.path.suffix != MCAP_SUFFIX:
            raise BagError(
                f"{self.path}: an MCAP bag is a single file whose name ends in .mcap "
                f"(give e.g. {self.path.with_suffix(MCAP_SUFFIX).name})"
            )
        if compression not in MCAP_COMPRESSIONS:
            raise BagError(f"MCAP compression {compression!r} is not one of {MCAP_COMPRESSIONS}")
        check_new([self.path], force)
        self.force = force
        self.typestore = typestore
        self.count = 0
        self._staging = partial_name(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._stream: BinaryIO | None = self._staging.open("wb")
        self._writer = _Writer(
            self._stream,
            chunk_size=chunk_size,
            compression=CompressionType[compression.upper()],
        )
        self._writer.start(profile="ros2", library=_LIBRARY)
        self._schemas: dict[str, int] = {}
        self._channels: dict[str, tuple[int, str]] = {}
        self._sequence: dict[int, int] = {}

    def _schema(self, msgtype: str) -> int:
        schema = self._schemas.get(msgtype)
        if schema is None:
            try:
                text, _ = self.typestore.generate_msgdef(msgtype, ros_version=2)
            except Exception as exc:  # rosbags raises KeyError or its own errors
                raise BagError(
                    f"message type {msgtype!r} is unknown: add its .msg file with --msg-dir"
                ) from exc
            schema = self._schemas[msgtype] = self._writer.register_schema(
                name=msgtype, encoding="ros2msg", data=text.encode("utf-8")
            )
        return schema

    def channel(self, topic: str, msgtype: str) -> int:
        """The channel id of ``topic`` (registered on first use); its type must not change."""
        known = self._channels.get(topic)
        if known is not None:
            if known[1] != msgtype:
                raise BagError(f"{self.path}: topic {topic} is {known[1]}, not {msgtype}")
            return known[0]
        channel = self._writer.register_channel(
            topic=topic, message_encoding="cdr", schema_id=self._schema(msgtype)
        )
        self._channels[topic] = (channel, msgtype)
        return channel

    def msgtype(self, topic: str) -> str | None:
        """The message type of ``topic``, or None before its first message."""
        known = self._channels.get(topic)
        return known[1] if known else None

    def write(self, topic: str, msgtype: str, stamp_ns: int, message: Any) -> None:
        """Append ``message`` (a rosbags message object) at record time ``stamp_ns``."""
        self.write_raw(topic, msgtype, stamp_ns, self.typestore.serialize_cdr(message, msgtype))

    def write_raw(self, topic: str, msgtype: str, stamp_ns: int, data: bytes | memoryview) -> None:
        """Append already CDR-serialised ``data`` on ``topic`` at record time ``stamp_ns``."""
        channel = self.channel(topic, msgtype)
        sequence = self._sequence.get(channel, 0)
        self._sequence[channel] = sequence + 1
        ns = int(stamp_ns)
        self._writer.add_message(
            channel_id=channel, log_time=ns, data=bytes(data), publish_time=ns, sequence=sequence
        )
        self.count += 1

    def add_metadata(self, name: str, values: Mapping[str, object]) -> None:
        """An MCAP metadata record: ``values`` become strings (Foxglove lists them)."""
        self._writer.add_metadata(name, {str(k): str(v) for k, v in values.items()})

    def close(self) -> Path:
        """Finish the file (summary, footer) and give it its final name."""
        if self._stream is None:
            return self.path
        try:
            self._writer.finish()
            self._stream.flush()
            os.fsync(self._stream.fileno())
        finally:
            self._stream.close()
            self._stream = None
        try:
            check_new([self.path], self.force)
            if self.path.is_dir():  # replacing (force) a rosbag2 folder of the same name
                shutil.rmtree(self.path)
            os.replace(self._staging, self.path)
        except BaseException:
            self._staging.unlink(missing_ok=True)
            raise
        return self.path

    def abort(self) -> None:
        """Drop the unfinished file."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self._staging.unlink(missing_ok=True)

    def __enter__(self) -> McapWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

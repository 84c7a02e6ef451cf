"""sensor_msgs/Image and CompressedImage straight from their CDR bytes, the pixels not copied.

What a ROS 2 middleware carries (and a ROS 2 bag stores) for a camera frame is its CDR
serialisation: a 4-byte encapsulation header, then the fields in order, each aligned to its
size relative to the end of that header. :func:`read_image` reads the header, sizes and
strings and gives ``data`` as a read-only numpy view of the buffer it was handed: a 7 MB
full-resolution frame costs no copy and no Python per-byte work. The node reads frames it gets
as serialized bytes (``raw=True``) with it, and the bag reader reads camera messages of ROS 2
bags with it, so the car and the replay decode the same bytes the same way.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from ncp_driver.images.errors import ImageDecodeError
from ncp_driver.images.messages import CompressedImage, Header, Image, Time

__all__ = [
    "COMPRESSED_TYPE",
    "IMAGE_TYPE",
    "IMAGE_TYPES",
    "CorruptImage",
    "read_compressed_image",
    "read_image",
    "read_raw_image",
]

IMAGE_TYPE = "sensor_msgs/msg/Image"
COMPRESSED_TYPE = "sensor_msgs/msg/CompressedImage"
IMAGE_TYPES = (IMAGE_TYPE, COMPRESSED_TYPE)

# Encapsulation identifiers (the first two bytes, big-endian): plain CDR, big or little endian.
_CDR_BE, _CDR_LE = 0x0000, 0x0001


class _Reader:
    """A cursor over one CDR body (offsets relative to the end of the encapsulation header)."""

    __slots__ = ("buffer", "end", "order", "pos")

    def __init__(self, data: Any) -> None:
        view = memoryview(data).cast("B")
        if len(view) < 4:
            raise ImageDecodeError(f"CDR message of {len(view)} bytes has no encapsulation header")
        kind = (view[0] << 8) | view[1]
        if kind not in (_CDR_BE, _CDR_LE):
            raise ImageDecodeError(
                f"CDR encapsulation 0x{kind:04x} is not plain CDR (0x0000 big-endian or 0x0001 "
                "little-endian), as ROS 2 middlewares write camera messages"
            )
        self.order = "<" if kind == _CDR_LE else ">"
        self.buffer = view
        self.pos = 4
        self.end = len(view)

    def _align(self, size: int) -> None:
        self.pos += -(self.pos - 4) % size

    def _need(self, count: int, what: str) -> None:
        if self.pos + count > self.end:
            raise ImageDecodeError(
                f"CDR message truncated: {what} needs {count} bytes at offset {self.pos}, the "
                f"message has {self.end}"
            )

    def uint32(self, what: str) -> int:
        self._align(4)
        self._need(4, what)
        (value,) = struct.unpack_from(self.order + "I", self.buffer, self.pos)
        self.pos += 4
        return int(value)

    def int32(self, what: str) -> int:
        self._align(4)
        self._need(4, what)
        (value,) = struct.unpack_from(self.order + "i", self.buffer, self.pos)
        self.pos += 4
        return int(value)

    def uint8(self, what: str) -> int:
        self._need(1, what)
        value = self.buffer[self.pos]
        self.pos += 1
        return int(value)

    def string(self, what: str) -> str:
        size = self.uint32(what)  # includes the terminating NUL
        self._need(size, what)
        raw = bytes(self.buffer[self.pos : self.pos + max(size - 1, 0)])
        self.pos += size
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ImageDecodeError(f"{what} is not UTF-8: {exc}") from exc

    def bytes_view(self, what: str) -> np.ndarray:
        size = self.uint32(what)
        self._need(size, what)
        view = np.frombuffer(self.buffer, dtype=np.uint8, count=size, offset=self.pos)
        self.pos += size
        return view

    def header(self) -> Header:
        sec = self.int32("header.stamp.sec")
        nanosec = self.uint32("header.stamp.nanosec")
        return Header(Time(sec, nanosec), self.string("header.frame_id"))


def read_raw_image(data: Any) -> Image:
    """A sensor_msgs/Image from its CDR bytes (``data`` a view of them, not a copy)."""
    cdr = _Reader(data)
    header = cdr.header()
    height = cdr.uint32("height")
    width = cdr.uint32("width")
    encoding = cdr.string("encoding")
    is_bigendian = cdr.uint8("is_bigendian")
    step = cdr.uint32("step")
    pixels = cdr.bytes_view("data")
    return Image(header, height, width, encoding, is_bigendian, step, pixels)


def read_compressed_image(data: Any) -> CompressedImage:
    """A sensor_msgs/CompressedImage from its CDR bytes (``data`` a view of them)."""
    cdr = _Reader(data)
    header = cdr.header()
    fmt = cdr.string("format")
    return CompressedImage(header, fmt, cdr.bytes_view("data"))


def read_image(data: Any, msgtype: str) -> Image | CompressedImage:
    """The camera message of type ``msgtype`` (``sensor_msgs/msg/Image`` or ``CompressedImage``)
    from its CDR bytes; :class:`ImageDecodeError` names what is wrong with them."""
    if msgtype == IMAGE_TYPE:
        return read_raw_image(data)
    if msgtype == COMPRESSED_TYPE:
        return read_compressed_image(data)
    raise ImageDecodeError(f"read_image reads {list(IMAGE_TYPES)}, not {msgtype!r}")


class CorruptImage:
    """Stands for a camera message whose bytes did not read: the pipeline rejects it with the
    reason (``header`` raises :class:`ImageDecodeError`), so it is counted, never fatal."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    @property
    def header(self) -> Any:
        raise ImageDecodeError(self.reason)

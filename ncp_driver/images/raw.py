"""sensor_msgs/Image (raw pixels) to RGB.

Encodings are the names of ROS's ``sensor_msgs/image_encodings``. Colour conversions are
OpenCV's (the ones cv_bridge uses), so a frame decodes here exactly as it does in a ROS tool.
16-bit samples become 8-bit by keeping the high byte (``v >> 8``): 16-bit full scale maps to
8-bit full scale. A camera that puts 10- or 12-bit data in the low bits of mono16 looks dark;
configure its driver to scale to 16 bits (or to publish 8 bits).
"""

from __future__ import annotations

import array
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from ncp_driver.images.errors import ImageDecodeError

__all__ = [
    "RAW_ENCODINGS",
    "RawEncoding",
    "decode_raw",
    "message_bytes",
    "raw_encoding",
    "raw_pixels",
    "to_rgb",
]


@dataclass(frozen=True)
class RawEncoding:
    """How one ``encoding`` string lays out its pixels and turns into RGB."""

    name: str
    layout: str  # "packed" (H x W x C samples), "yuv422" (2 bytes a pixel), "yuv420sp" (NV12/NV21)
    channels: int  # samples per pixel in the message ("packed" only)
    sample_bytes: int  # 1 or 2
    to_rgb: int | None  # OpenCV conversion code, None when the pixels already are RGB

    @property
    def bytes_per_pixel(self) -> int:
        """Bytes of one pixel in a row (for NV12/NV21: in the luma rows)."""
        if self.layout == "yuv422":
            return 2
        if self.layout == "yuv420sp":
            return 1
        return self.channels * self.sample_bytes

    def rows(self, height: int) -> int:
        """Rows of ``step`` bytes the message holds for a frame ``height`` pixels high."""
        return height * 3 // 2 if self.layout == "yuv420sp" else height


def _packed(name: str, channels: int, sample_bytes: int, code: int | None) -> RawEncoding:
    return RawEncoding(name, "packed", channels, sample_bytes, code)


def _table() -> dict[str, RawEncoding]:
    table: dict[str, RawEncoding] = {}
    for bits, size in ((8, 1), (16, 2)):
        table[f"rgb{bits}"] = _packed(f"rgb{bits}", 3, size, None)
        table[f"bgr{bits}"] = _packed(f"bgr{bits}", 3, size, cv2.COLOR_BGR2RGB)
        table[f"rgba{bits}"] = _packed(f"rgba{bits}", 4, size, cv2.COLOR_RGBA2RGB)
        table[f"bgra{bits}"] = _packed(f"bgra{bits}", 4, size, cv2.COLOR_BGRA2RGB)
        table[f"mono{bits}"] = _packed(f"mono{bits}", 1, size, cv2.COLOR_GRAY2RGB)
        # OpenCV names a Bayer pattern by the second row's 2nd and 3rd pixels (as cv_bridge maps).
        for pattern, code in (
            ("rggb", cv2.COLOR_BayerBG2RGB),
            ("bggr", cv2.COLOR_BayerRG2RGB),
            ("gbrg", cv2.COLOR_BayerGR2RGB),
            ("grbg", cv2.COLOR_BayerGB2RGB),
        ):
            name = f"bayer_{pattern}{bits}"
            table[name] = _packed(name, 1, size, code)
    table["8UC1"] = _packed("8UC1", 1, 1, cv2.COLOR_GRAY2RGB)
    table["16UC1"] = _packed("16UC1", 1, 2, cv2.COLOR_GRAY2RGB)
    for name in ("yuv422", "uyvy"):  # U0 Y0 V0 Y1
        table[name] = RawEncoding(name, "yuv422", 2, 1, cv2.COLOR_YUV2RGB_UYVY)
    for name in ("yuv422_yuy2", "yuyv"):  # Y0 U0 Y1 V0
        table[name] = RawEncoding(name, "yuv422", 2, 1, cv2.COLOR_YUV2RGB_YUY2)
    table["nv12"] = RawEncoding("nv12", "yuv420sp", 1, 1, cv2.COLOR_YUV2RGB_NV12)
    table["nv21"] = RawEncoding("nv21", "yuv420sp", 1, 1, cv2.COLOR_YUV2RGB_NV21)
    return table


RAW_ENCODINGS: dict[str, RawEncoding] = _table()


def raw_encoding(name: str) -> RawEncoding:
    """The :class:`RawEncoding` of ``name``; :class:`ImageDecodeError` if it is not supported."""
    found = RAW_ENCODINGS.get(name) or RAW_ENCODINGS.get(name.lower())
    if found is None:
        raise ImageDecodeError(
            f"unknown image encoding {name!r}: supported are {', '.join(sorted(RAW_ENCODINGS))}"
        )
    return found


def _int_field(msg: Any, name: str) -> int:
    """An integer field of an Image (``height``, ``width``, ``step``); refuses other types."""
    value = getattr(msg, name, None)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ImageDecodeError(f"image field {name} is {value!r}, not an integer")
    if not 0 <= int(value) < 2**31:
        raise ImageDecodeError(f"image field {name} = {value} is outside 0 .. 2^31 - 1")
    return int(value)


def message_bytes(data: Any) -> np.ndarray:
    """A message's ``data`` field as a flat uint8 array, without copying where possible.

    Bytes, a uint8 array, or a sequence of integers 0..255; anything else (floats, strings)
    is refused rather than cast.
    """
    if isinstance(data, np.ndarray):
        if data.dtype.itemsize != 1 or data.dtype.kind not in "uiSV":
            raise ImageDecodeError(f"image data has dtype {data.dtype}; expected bytes (uint8)")
        return data.reshape(-1).view(np.uint8)
    if isinstance(data, (bytes, bytearray, memoryview, array.array)):
        return np.frombuffer(data, dtype=np.uint8)
    try:
        values = np.asarray(data)
    except (TypeError, ValueError) as exc:
        raise ImageDecodeError(f"image data of type {type(data).__name__} is not bytes") from exc
    if values.ndim != 1 or (values.size and values.dtype.kind not in "iu"):
        raise ImageDecodeError(
            f"image data must be bytes or a flat sequence of integers 0..255, not "
            f"{values.dtype} values of shape {values.shape}"
        )
    if values.size and (values.min() < 0 or values.max() > 255):
        raise ImageDecodeError("image data must be a flat sequence of byte values 0..255")
    return values.astype(np.uint8)


def raw_pixels(msg: Any) -> tuple[np.ndarray, RawEncoding]:
    """Validate an Image message and view its pixels without copying.

    Returns ``(pixels, encoding)``: ``pixels`` is H x W x C (``packed``; 16-bit samples reduced
    to their high byte), H x W x 2 (``yuv422``) or 1.5H x W (``yuv420sp``), uint8, possibly a
    read-only, row-strided view of ``msg.data``.
    """
    encoding = raw_encoding(str(getattr(msg, "encoding", "")))
    height, width, step = (_int_field(msg, name) for name in ("height", "width", "step"))
    if height <= 0 or width <= 0:
        raise ImageDecodeError(f"image size {width} x {height} is empty")
    if encoding.layout != "packed" and width % 2:
        raise ImageDecodeError(f"{encoding.name} needs an even width, got {width}")
    if encoding.layout == "yuv420sp" and height % 2:
        raise ImageDecodeError(f"{encoding.name} needs an even height, got {height}")
    row_bytes = width * encoding.bytes_per_pixel
    if step < row_bytes:
        raise ImageDecodeError(
            f"step {step} is smaller than width x bytes per pixel = {width} x "
            f"{encoding.bytes_per_pixel} = {row_bytes} for {encoding.name}"
        )
    data = message_bytes(msg.data)
    rows = encoding.rows(height)
    if data.size != step * rows:
        raise ImageDecodeError(
            f"data holds {data.size} bytes; {encoding.name} {width} x {height} with step {step} "
            f"needs step x rows = {step} x {rows} = {step * rows}"
        )
    plane = data.reshape(rows, step)[:, :row_bytes]
    if encoding.layout == "yuv420sp":
        return plane, encoding
    if encoding.layout == "yuv422":
        return plane.reshape(height, width, 2), encoding
    if encoding.sample_bytes == 2:
        high = 0 if bool(msg.is_bigendian) else 1
        plane = plane.reshape(height, width * encoding.channels, 2)[:, :, high]
    return plane.reshape(height, width, encoding.channels), encoding


def to_rgb(pixels: np.ndarray, encoding: RawEncoding) -> np.ndarray:
    """Convert :func:`raw_pixels`' view to a new contiguous H x W x 3 RGB array."""
    if encoding.to_rgb is None:
        return np.array(pixels, dtype=np.uint8, order="C", copy=True)
    if encoding.layout == "packed" and encoding.channels == 1:
        pixels = pixels[:, :, 0]
    return cv2.cvtColor(np.ascontiguousarray(pixels), encoding.to_rgb)


def decode_raw(msg: Any) -> np.ndarray:
    """A sensor_msgs/Image as a new H x W x 3 uint8 RGB array."""
    pixels, encoding = raw_pixels(msg)
    return to_rgb(pixels, encoding)

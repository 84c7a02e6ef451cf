"""Plain stand-ins for sensor_msgs Image and CompressedImage, and builders from RGB frames.

For feeding the pipeline without ROS or rosbags (tests, benchmarks, HDF5 drives). Any object
with the same fields works as well: rclpy messages, rosbags messages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import cv2
import numpy as np

__all__ = [
    "CompressedImage",
    "Header",
    "Image",
    "Time",
    "compressed_message",
    "image_message",
    "stamp_to_time",
]


@dataclass
class Time:
    """builtin_interfaces/Time."""

    __msgtype__: ClassVar[str] = "builtin_interfaces/msg/Time"
    sec: int = 0
    nanosec: int = 0


@dataclass
class Header:
    """std_msgs/Header."""

    __msgtype__: ClassVar[str] = "std_msgs/msg/Header"
    stamp: Time = field(default_factory=Time)
    frame_id: str = ""


@dataclass
class Image:
    """sensor_msgs/Image."""

    __msgtype__: ClassVar[str] = "sensor_msgs/msg/Image"
    header: Header
    height: int
    width: int
    encoding: str
    is_bigendian: int
    step: int
    data: np.ndarray


@dataclass
class CompressedImage:
    """sensor_msgs/CompressedImage."""

    __msgtype__: ClassVar[str] = "sensor_msgs/msg/CompressedImage"
    header: Header
    format: str
    data: np.ndarray


def stamp_to_time(stamp: float) -> Time:
    """Seconds to a Time (rounded to the nanosecond)."""
    total = round(stamp * 1e9)
    return Time(sec=math.floor(total / 1e9), nanosec=int(total % 1_000_000_000))


_FROM_RGB = {
    "rgb8": None,
    "bgr8": cv2.COLOR_RGB2BGR,
    "rgba8": cv2.COLOR_RGB2RGBA,
    "bgra8": cv2.COLOR_RGB2BGRA,
    "mono8": cv2.COLOR_RGB2GRAY,
}


def image_message(
    rgb: np.ndarray,
    stamp: float,
    encoding: str = "rgb8",
    frame_id: str = "camera",
    row_padding: int = 0,
) -> Image:
    """An Image holding ``rgb`` (H x W x 3 uint8) as ``encoding`` (rgb8, bgr8, rgba8, bgra8,
    mono8), each row followed by ``row_padding`` zero bytes."""
    if encoding not in _FROM_RGB:
        raise ValueError(f"image_message writes {sorted(_FROM_RGB)}, not {encoding!r}")
    code = _FROM_RGB[encoding]
    pixels = rgb if code is None else cv2.cvtColor(rgb, code)
    height, width = rgb.shape[:2]
    rows = pixels.reshape(height, -1)
    if row_padding:
        rows = np.hstack([rows, np.zeros((height, row_padding), np.uint8)])
    return Image(
        header=Header(stamp_to_time(stamp), frame_id),
        height=height,
        width=width,
        encoding=encoding,
        is_bigendian=0,
        step=rows.shape[1],
        data=np.ascontiguousarray(rows).reshape(-1),
    )


def compressed_message(
    rgb: np.ndarray,
    stamp: float,
    codec: str = "jpeg",
    quality: int = 90,
    frame_id: str = "camera",
) -> CompressedImage:
    """A CompressedImage of ``rgb`` as image_transport writes it (``rgb8; jpeg compressed bgr8``)."""
    if codec not in ("jpeg", "png"):
        raise ValueError(f"codec must be 'jpeg' or 'png', not {codec!r}")
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if codec == "jpeg" else []
    ok, data = cv2.imencode(".jpg" if codec == "jpeg" else ".png", rgb[..., ::-1], params)
    if not ok:
        raise ValueError(f"OpenCV could not encode a {rgb.shape} frame as {codec}")
    return CompressedImage(
        header=Header(stamp_to_time(stamp), frame_id),
        format=f"rgb8; {codec} compressed bgr8",
        data=data.reshape(-1),
    )

"""The capture time of a camera message, from its header."""

from __future__ import annotations

import math
from typing import Any

from ncp_driver.images.errors import ImageDecodeError

__all__ = ["image_stamp"]


def image_stamp(msg: Any) -> float:
    """Seconds of ``msg.header.stamp`` (``sec + nanosec * 1e-9``; ROS 1's ``secs``/``nsecs`` too)."""
    try:
        stamp = msg.header.stamp
    except AttributeError as exc:
        raise ImageDecodeError(
            f"{type(msg).__name__} has no header.stamp: pass a sensor_msgs Image or CompressedImage"
        ) from exc
    sec = getattr(stamp, "sec", None)
    nanosec = getattr(stamp, "nanosec", None)
    if sec is None or nanosec is None:
        sec = getattr(stamp, "secs", None)
        nanosec = getattr(stamp, "nsecs", None)
    if sec is None or nanosec is None:
        raise ImageDecodeError(
            f"header.stamp of type {type(stamp).__name__} has neither sec/nanosec nor secs/nsecs"
        )
    value = float(sec) + float(nanosec) * 1e-9
    if not math.isfinite(value):
        raise ImageDecodeError(f"header.stamp {sec}.{nanosec} is not a finite time")
    return value

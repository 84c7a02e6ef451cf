"""Header stamps: the one parser of ``builtin_interfaces/Time`` (ROS 2) and ROS 1's time.

Every tool reads header stamps through here (the pipeline, the replay, the bag series), so a
damaged stamp is refused the same way everywhere: ``sec`` and ``nanosec`` must be integers
(a float with no fraction is accepted), ``0 <= nanosec < 1e9`` and ``|sec| < 2**62 / 1e9``
(anything larger is not a time a recording can carry: about 146 years). A stamp that breaks
this raises :class:`ImageDecodeError` naming the field.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from ncp_driver.images.errors import ImageDecodeError

__all__ = ["MAX_STAMP_SEC", "header_stamp_ns", "image_stamp", "ns_to_seconds", "stamp_ns"]

MAX_STAMP_SEC = 2**62 // 1_000_000_000  # beyond this a stamp in ns overflows int64 arithmetic
_NS = 1_000_000_000


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool) or value is None:
        raise ImageDecodeError(f"header.stamp.{name} is {value!r}, not an integer")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number) and number.is_integer():
            return int(number)
    raise ImageDecodeError(f"header.stamp.{name} is {value!r}, not an integer")


def stamp_ns(stamp: Any) -> int:
    """A ``Time`` (``sec``/``nanosec``, or ROS 1's ``secs``/``nsecs``) in integer ns."""
    sec = getattr(stamp, "sec", None)
    nanosec = getattr(stamp, "nanosec", None)
    if sec is None or nanosec is None:
        sec = getattr(stamp, "secs", None)
        nanosec = getattr(stamp, "nsecs", None)
    if sec is None or nanosec is None:
        raise ImageDecodeError(
            f"header.stamp of type {type(stamp).__name__} has neither sec/nanosec nor secs/nsecs"
        )
    whole, fraction = _integer(sec, "sec"), _integer(nanosec, "nanosec")
    if not 0 <= fraction < _NS:
        raise ImageDecodeError(f"header.stamp.nanosec {fraction} is outside 0..999999999")
    if abs(whole) > MAX_STAMP_SEC:
        raise ImageDecodeError(
            f"header.stamp.sec {whole} is not a time a recording can carry (|sec| <= "
            f"{MAX_STAMP_SEC}): the message is damaged"
        )
    return whole * _NS + fraction


def header_stamp_ns(msg: Any) -> int:
    """``msg.header.stamp`` in integer ns; :class:`ImageDecodeError` if absent or damaged."""
    try:
        stamp = msg.header.stamp
    except AttributeError as exc:
        raise ImageDecodeError(
            f"{type(msg).__name__} has no header.stamp: pass a sensor_msgs Image or CompressedImage"
        ) from exc
    return stamp_ns(stamp)


def ns_to_seconds(total_ns: int) -> float:
    """A stamp in integer ns as float seconds, ``sec + nanosec * 1e-9`` (as ROS computes it)."""
    whole, fraction = divmod(total_ns, _NS)
    return float(whole) + float(fraction) * 1e-9


def image_stamp(msg: Any) -> float:
    """Seconds of ``msg.header.stamp`` (``sec + nanosec * 1e-9``; ROS 1's ``secs``/``nsecs`` too)."""
    return ns_to_seconds(header_stamp_ns(msg))

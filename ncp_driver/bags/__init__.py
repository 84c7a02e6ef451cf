"""Bag tools (rosbags): inspect, extract, build training sets, count takeovers, lateral discomfort.

The reading API for other tools:

- :class:`Recording` opens one or more bags (ROS 1, ROS 2 sqlite3/MCAP, split) as one recording;
  ``recording.messages(topics)`` yields :class:`BagMessage` in time order, skipping and counting
  messages that do not deserialise (``recording.skipped``).
- :func:`read_messages` does the same in one call.
- :func:`load_auto_and_gps` loads the auto-mode flag and GPS as numpy series.
- :class:`BagWriter` writes bags in the three formats.

The ``ncp-bag`` command is :mod:`ncp_driver.bags.cli`.
"""

from __future__ import annotations

from ncp_driver.bags.errors import BagError, MessageTypeError, OutputExistsError, TopicError
from ncp_driver.bags.reader import BagMessage, RawMessage, Recording, TopicInfo, read_messages
from ncp_driver.bags.series import Series, load_auto_and_gps, load_series
from ncp_driver.bags.typestore import make_typestore
from ncp_driver.bags.writer import BagWriter

__all__ = [
    "BagError",
    "BagMessage",
    "BagWriter",
    "MessageTypeError",
    "OutputExistsError",
    "RawMessage",
    "Recording",
    "Series",
    "TopicError",
    "TopicInfo",
    "load_auto_and_gps",
    "load_series",
    "make_typestore",
    "read_messages",
]

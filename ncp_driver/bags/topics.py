"""Find the topics a command needs by message type, unless the user names them.

=============  ==========================================================  ==================
role           found as                                                    flag
=============  ==========================================================  ==================
camera         a ``sensor_msgs/Image`` or ``CompressedImage`` topic        ``--camera``
gps            a ``sensor_msgs/NavSatFix`` topic                           ``--gps``
auto           a ``std_msgs/Bool`` topic whose name says auto/autonomous   ``--auto``
steering       an ``ackermann_msgs/AckermannDrive(Stamped)`` topic         ``--steering``
speed          an ``AckermannDrive(Stamped)`` topic (``drive.speed``)      ``--speed``
odometry       a ``nav_msgs/Odometry`` topic                               ``--odom``
imu            a ``sensor_msgs/Imu`` topic                                 ``--imu``
=============  ==========================================================  ==================

``--auto`` and ``--steering`` also take ``TOPIC:FIELD`` (a dotted field path) to read the flag or
the steering angle (rad) from a message of any type, e.g. a vehicle's own status message whose
``.msg`` is given with ``--msg-dir``.

When several topics fit, the project's default name (:mod:`ncp_driver.topics`) wins, and a raw
camera wins over its own ``/compressed`` republication; otherwise the choice is ambiguous and
the error lists the candidates and every topic of the bag.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ncp_driver import topics as defaults
from ncp_driver.bags.errors import TopicError
from ncp_driver.bags.reader import TopicInfo
from ncp_driver.topics import (
    ACKERMANN,
    ACKERMANN_STAMPED,
    BOOL,
    COMPRESSED_IMAGE,
    IMAGE,
    IMU,
    NAVSATFIX,
    ODOMETRY,
)

__all__ = ["FIELD_ROLES", "ROLES", "Role", "find_topic", "find_topic_optional", "split_field"]


@dataclass(frozen=True)
class Role:
    """What a command needs a topic for, and how to recognise it."""

    name: str
    description: str
    flag: str
    msgtypes: tuple[str, ...]
    defaults: tuple[str, ...]
    name_pattern: str | None = None  # a regex the topic name must match (the auto flag)

    def fits(self, info: TopicInfo) -> bool:
        if info.msgtype not in self.msgtypes:
            return False
        return (
            self.name_pattern is None or re.search(self.name_pattern, info.name, re.I) is not None
        )


ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        Role(
            "camera",
            "camera images",
            "--camera",
            (IMAGE, COMPRESSED_IMAGE),
            (
                defaults.absolute(defaults.CAMERA_RAW),
                defaults.absolute(defaults.CAMERA_COMPRESSED),
            ),
        ),
        Role("gps", "GPS fixes", "--gps", (NAVSATFIX,), (defaults.absolute(defaults.GPS),)),
        Role(
            "auto",
            "the auto-mode flag",
            "--auto",
            (BOOL,),
            (defaults.absolute(defaults.AUTO_MODE),),
            name_pattern=r"auto",
        ),
        Role(
            "steering",
            "steering (what the car did)",
            "--steering",
            (ACKERMANN_STAMPED, ACKERMANN),
            (defaults.absolute(defaults.HUMAN_STEERING),),
        ),
        Role(
            "speed",
            "the vehicle speed (drive.speed)",
            "--speed",
            (ACKERMANN_STAMPED, ACKERMANN),
            (defaults.absolute(defaults.HUMAN_STEERING),),
        ),
        Role("odometry", "odometry", "--odom", (ODOMETRY,), ()),
        Role("imu", "IMU", "--imu", (IMU,), ()),
    )
}


FIELD_ROLES = ("auto", "steering")


def split_field(given: str | None) -> tuple[str | None, str | None]:
    """``"/topic:field.path"`` -> (``"/topic"``, ``"field.path"``); no colon -> (given, None)."""
    if not given or ":" not in given:
        return given, None
    topic, _, field = given.partition(":")
    return topic, field or None


def _listing(topics: Mapping[str, TopicInfo]) -> str:
    items = [f"{t.name} ({t.msgtype}, {t.msgcount} msgs)" for t in topics.values()]
    return "; ".join(items) if items else "none (the bag is empty)"


def _choose(role: Role, candidates: list[TopicInfo]) -> TopicInfo | None:
    if len(candidates) == 1:
        return candidates[0]
    names = {c.name: c for c in candidates}
    for name in role.defaults:
        if name in names:
            return names[name]
    if role.name == "camera":
        raw = [c for c in candidates if c.msgtype == IMAGE]
        compressed = {c.name for c in candidates if c.msgtype == COMPRESSED_IMAGE}
        if len(raw) == 1 and compressed <= {raw[0].name + "/compressed"}:
            return raw[0]
    return None


def find_topic_optional(
    topics: Mapping[str, TopicInfo], role_name: str, given: str | None = None, source: str = "bag"
) -> str | None:
    """The topic for ``role_name``, or None if the bag has none; errors if ambiguous or wrong."""
    role = ROLES[role_name]
    given, field = split_field(given)
    if field is not None and role_name not in FIELD_ROLES:
        raise TopicError(
            f"{role.flag} takes a topic name; TOPIC:FIELD works only for "
            f"{', '.join(ROLES[r].flag for r in FIELD_ROLES)}"
        )
    if given:
        info = topics.get(given)
        if info is None:
            raise TopicError(
                f"{source} has no topic {given!r} ({role.flag}); its topics: {_listing(topics)}"
            )
        if field is None and info.msgtype not in role.msgtypes:
            raise TopicError(
                f"{source}: {role.flag} {given} is {info.msgtype}, but {role.description} must be "
                f"one of {', '.join(role.msgtypes)} (or give TOPIC:FIELD); its topics: {_listing(topics)}"
            )
        return given
    candidates = [t for t in topics.values() if role.fits(t)]
    if not candidates:
        return None
    chosen = _choose(role, candidates)
    if chosen is None:
        names = ", ".join(f"{c.name} ({c.msgtype})" for c in candidates)
        raise TopicError(
            f"{source}: several topics could be {role.description}: {names}; "
            f"choose one with {role.flag} TOPIC"
        )
    return chosen.name


def find_topic(
    topics: Mapping[str, TopicInfo], role_name: str, given: str | None = None, source: str = "bag"
) -> str:
    """The topic for ``role_name``; raises :class:`TopicError` listing the bag's topics if none."""
    found = find_topic_optional(topics, role_name, given, source)
    if found is None:
        role = ROLES[role_name]
        what = " or ".join(role.msgtypes)
        extra = " whose name contains 'auto'" if role.name_pattern else ""
        raise TopicError(
            f"{source} has no topic for {role.description} (a {what} topic{extra}); "
            f"its topics: {_listing(topics)}; name one with {role.flag} TOPIC"
        )
    return found

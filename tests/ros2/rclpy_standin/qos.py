"""``rclpy.qos``: the QoS profile and policies, with rclpy's names, values and defaults.

As Jazzy's: deadline, lifespan, liveliness and its lease duration are accepted (and kept, not
modelled); KEEP_LAST with depth 0 warns and the middleware takes its default depth (1 here, as
Cyclone DDS's default history); Humble does not warn.
"""

from __future__ import annotations

import warnings
from enum import IntEnum
from typing import Any

__all__ = [
    "DurabilityPolicy",
    "HistoryPolicy",
    "InvalidQoSProfileException",
    "LivelinessPolicy",
    "QoSProfile",
    "ReliabilityPolicy",
    "qos_profile_sensor_data",
    "qos_profile_services_default",
    "qos_profile_system_default",
]


class InvalidQoSProfileException(Exception):
    """Raised when constructing a QoSProfile with invalid arguments."""

    def __init__(self, *args: Any) -> None:
        Exception.__init__(self, "Invalid QoSProfile", *args)


class HistoryPolicy(IntEnum):
    SYSTEM_DEFAULT = 0
    KEEP_LAST = 1
    KEEP_ALL = 2
    UNKNOWN = 3


class ReliabilityPolicy(IntEnum):
    SYSTEM_DEFAULT = 0
    RELIABLE = 1
    BEST_EFFORT = 2
    UNKNOWN = 3


class DurabilityPolicy(IntEnum):
    SYSTEM_DEFAULT = 0
    TRANSIENT_LOCAL = 1
    VOLATILE = 2
    UNKNOWN = 3


class LivelinessPolicy(IntEnum):
    SYSTEM_DEFAULT = 0
    AUTOMATIC = 1
    MANUAL_BY_TOPIC = 3
    UNKNOWN = 4


class QoSProfile:
    """rclpy's QoSProfile: keyword arguments only; history and/or depth are required."""

    __slots__ = (
        "_avoid_ros_namespace_conventions",
        "_deadline",
        "_depth",
        "_durability",
        "_history",
        "_lifespan",
        "_liveliness",
        "_liveliness_lease_duration",
        "_reliability",
    )

    def __init__(self, **kwargs: Any) -> None:
        assert all("_" + key in self.__slots__ for key in kwargs), (
            f"Invalid arguments passed to constructor: {kwargs.keys()!r}"
        )
        if "history" not in kwargs:
            if "depth" not in kwargs:
                raise InvalidQoSProfileException("History and/or depth settings are required.")
            kwargs["history"] = HistoryPolicy.KEEP_LAST
        self._history = HistoryPolicy(kwargs["history"])
        if self._history == HistoryPolicy.KEEP_LAST and "depth" not in kwargs:
            raise InvalidQoSProfileException("History set to KEEP_LAST without a depth setting.")
        self._depth = int(kwargs.get("depth", 10))
        from rclpy_standin import api

        if (
            self._history == HistoryPolicy.KEEP_LAST
            and self._depth == 0
            and api.distro() != "humble"
        ):
            warnings.warn(
                "A zero depth with KEEP_LAST doesn't make sense; no data could be stored. "
                "This will be interpreted as SYSTEM_DEFAULT",
                stacklevel=2,
            )
        self._reliability = ReliabilityPolicy(kwargs.get("reliability", ReliabilityPolicy.RELIABLE))
        self._durability = DurabilityPolicy(kwargs.get("durability", DurabilityPolicy.VOLATILE))
        from rclpy_standin.time import Duration

        for name in ("lifespan", "deadline", "liveliness_lease_duration"):
            assert name not in kwargs or isinstance(kwargs[name], Duration), name  # as rclpy
        self._lifespan = kwargs.get("lifespan")
        self._deadline = kwargs.get("deadline")
        self._liveliness = LivelinessPolicy(
            kwargs.get("liveliness", LivelinessPolicy.SYSTEM_DEFAULT)
        )
        self._liveliness_lease_duration = kwargs.get("liveliness_lease_duration")
        self._avoid_ros_namespace_conventions = bool(
            kwargs.get("avoid_ros_namespace_conventions", False)
        )

    @property
    def history(self) -> HistoryPolicy:
        return self._history

    @property
    def depth(self) -> int:
        return self._depth

    @property
    def reliability(self) -> ReliabilityPolicy:
        return self._reliability

    @property
    def durability(self) -> DurabilityPolicy:
        return self._durability

    @property
    def deadline(self) -> Any:
        return self._deadline

    @property
    def lifespan(self) -> Any:
        return self._lifespan

    @property
    def liveliness(self) -> LivelinessPolicy:
        return self._liveliness

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QoSProfile):
            return False
        return all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    def __repr__(self) -> str:
        return (
            f"QoSProfile(history={self.history.name}, depth={self.depth}, "
            f"reliability={self.reliability.name}, durability={self.durability.name})"
        )


def as_profile(qos: QoSProfile | int) -> QoSProfile:
    """rclpy's rule: an int is a KEEP_LAST depth with every other policy at its default."""
    if isinstance(qos, QoSProfile):
        return qos
    if isinstance(qos, int) and not isinstance(qos, bool):
        if qos < 0:
            raise ValueError("history depth must be greater than or equal to zero")
        return QoSProfile(depth=qos)
    raise TypeError(f"Expected QoSProfile or int, but received {type(qos)!r}")


def compatible(offered: QoSProfile, requested: QoSProfile) -> bool:
    """DDS request/offered matching for the policies modelled here."""
    if (
        requested.reliability == ReliabilityPolicy.RELIABLE
        and offered.reliability == ReliabilityPolicy.BEST_EFFORT
    ):
        return False
    return not (
        requested.durability == DurabilityPolicy.TRANSIENT_LOCAL
        and offered.durability == DurabilityPolicy.VOLATILE
    )


# rmw's predefined profiles (rmw/qos_profiles.h).
qos_profile_sensor_data = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=5,
    reliability=ReliabilityPolicy.BEST_EFFORT,
    durability=DurabilityPolicy.VOLATILE,
)
qos_profile_system_default = QoSProfile(
    history=HistoryPolicy.SYSTEM_DEFAULT,
    depth=0,
    reliability=ReliabilityPolicy.SYSTEM_DEFAULT,
    durability=DurabilityPolicy.SYSTEM_DEFAULT,
)
qos_profile_services_default = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=10,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)

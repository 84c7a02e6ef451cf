"""``rclpy.time``, ``rclpy.duration`` and ``rclpy.clock``: Time, Duration, Clock.

The stand-in's ROS time is the context's simulated time, which tests move forward explicitly;
nothing here reads the wall clock, so tests never depend on timing.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rclpy_standin.context import Context

__all__ = ["Clock", "ClockType", "Duration", "ROSClock", "Time"]

S_TO_NS = 1_000_000_000


class ClockType(IntEnum):
    UNINITIALIZED = 0
    ROS_TIME = 1
    SYSTEM_TIME = 2
    STEADY_TIME = 3


class Duration:
    """rclpy.duration.Duration(*, seconds=0, nanoseconds=0)."""

    def __init__(self, *, seconds: float = 0, nanoseconds: int = 0) -> None:
        self._nanoseconds = int(seconds * S_TO_NS) + int(nanoseconds)

    @property
    def nanoseconds(self) -> int:
        return self._nanoseconds

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Duration) and other.nanoseconds == self.nanoseconds

    def __lt__(self, other: Duration) -> bool:
        return self.nanoseconds < other.nanoseconds


class Time:
    """rclpy.time.Time(*, seconds=0, nanoseconds=0, clock_type=ClockType.SYSTEM_TIME)."""

    def __init__(
        self,
        *,
        seconds: float = 0,
        nanoseconds: int = 0,
        clock_type: ClockType = ClockType.SYSTEM_TIME,
    ) -> None:
        if not isinstance(clock_type, ClockType):
            raise TypeError("Clock type must be a ClockType enum")
        if seconds < 0:
            raise ValueError("Seconds value must not be negative")
        if nanoseconds < 0:
            raise ValueError("Nanoseconds value must not be negative")
        self._nanoseconds = int(seconds * S_TO_NS) + int(nanoseconds)
        self._clock_type = clock_type

    @property
    def nanoseconds(self) -> int:
        return self._nanoseconds

    @property
    def clock_type(self) -> ClockType:
        return self._clock_type

    def seconds_nanoseconds(self) -> tuple[int, int]:
        return divmod(self._nanoseconds, S_TO_NS)

    def to_msg(self) -> Any:
        from builtin_interfaces.msg import Time as TimeMsg  # the stand-in's generated class

        sec, nanosec = self.seconds_nanoseconds()
        return TimeMsg(sec=sec, nanosec=nanosec)

    @classmethod
    def from_msg(cls, msg: Any, clock_type: ClockType = ClockType.ROS_TIME) -> Time:
        return cls(seconds=msg.sec, nanoseconds=msg.nanosec, clock_type=clock_type)

    def __sub__(self, other: Time) -> Duration:
        return Duration(nanoseconds=self._nanoseconds - other.nanoseconds)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Time) and other.nanoseconds == self.nanoseconds

    def __repr__(self) -> str:
        return f"Time(nanoseconds={self._nanoseconds}, clock_type={self._clock_type.name})"


class Clock:
    """rclpy.clock.Clock(*, clock_type=ClockType.SYSTEM_TIME): here, the simulated time of the
    given context or, as rclpy's needs none, of the default context."""

    def __init__(
        self, *, clock_type: ClockType = ClockType.SYSTEM_TIME, context: Context | None = None
    ) -> None:
        if context is None:
            from rclpy_standin import api

            context = api.get_default_context()
        self._clock_type = clock_type
        self._context = context

    @property
    def clock_type(self) -> ClockType:
        return self._clock_type

    def now(self) -> Time:
        return Time(nanoseconds=self._context.sim_time_ns, clock_type=self._clock_type)


class ROSClock(Clock):
    """The node clock (ROS time)."""

    def __init__(self, *, context: Context) -> None:
        super().__init__(clock_type=ClockType.ROS_TIME, context=context)

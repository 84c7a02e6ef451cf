"""Curvature to steering angle (bicycle model), and the limits every command passes before it leaves.

Order of the limits, for a raw curvature ``k`` at image stamp ``t``:

1. magnitude: ``|k| <= max_curvature`` and, if set, ``tan(max_steering_angle_rad) / wheelbase``
   (named ``max_curvature`` or ``max_steering_angle``, whichever binds);
   lateral acceleration: ``|k| <= max_lateral_accel / v^2`` when enabled and the speed is known;
2. rate: ``|k - k_prev| <= max_curvature_rate * dt`` against the last command, always, where
   ``dt`` is the smaller of the stamp interval ``t - t_prev`` and the receipt-time interval
   ``now - now_prev`` (the replay's receipt time is the stamp): a frame stamped ahead of the
   clock, or a burst of frames, buys no extra change. Stamps going backwards start a new stamp
   timeline from the last command with no change allowed on that frame; nothing lifts the
   limit but :meth:`SteeringLimiter.reset` (only the very first command is free);
3. the magnitude limits again, which can bind only when they tightened since the last command
   (the speed rose): a hard limit beats the rate limit.

Each name in ``limits_active`` is a limit that changed the value.

Angles: a steering angle here is the front-wheel (road-wheel) angle, as
``ackermann_msgs/AckermannDrive.steering_angle`` defines it, on the commands and in recorded
steering messages alike. A steering-wheel angle (front-wheel angle x steering ratio) appears only
where a car needs one, by explicit option: :func:`steering_wheel_angle` and
:func:`front_wheel_angle` convert.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from ncp_driver.runtime.config import PipelineConfig

__all__ = [
    "LIMIT_NAMES",
    "SteeringCommand",
    "SteeringLimiter",
    "curvature_to_steering_angle",
    "front_wheel_angle",
    "steering_angle_to_curvature",
    "steering_wheel_angle",
]

LIMIT_NAMES = ("max_curvature", "max_steering_angle", "max_lateral_accel", "max_curvature_rate")

Value = TypeVar("Value", float, np.ndarray)


def _same_kind(result: Any, like: Value) -> Value:
    """An array for an array argument, a plain float for a float (messages want Python floats)."""
    return result if isinstance(like, np.ndarray) else float(result)


def curvature_to_steering_angle(curvature: Value, wheelbase: float) -> Value:
    """Front-wheel angle in rad for a curvature in 1/m: ``atan(wheelbase * k)``.

    The bicycle model, the one definition (the car, the replay, the synthetic drives, the
    training-set builder). Positive turns left (REP 103). Floats or arrays.
    """
    return _same_kind(np.arctan(np.multiply(wheelbase, curvature)), curvature)


def steering_angle_to_curvature(angle: Value, wheelbase: float) -> Value:
    """Inverse of :func:`curvature_to_steering_angle`: ``tan(angle) / wheelbase`` (front wheels)."""
    return _same_kind(np.tan(angle) / wheelbase, angle)


def steering_wheel_angle(front_wheel: Value, steering_ratio: float) -> Value:
    """The steering-wheel angle for a front-wheel angle: ``front_wheel * steering_ratio``."""
    return _same_kind(np.multiply(front_wheel, steering_ratio), front_wheel)


def front_wheel_angle(steering_wheel: Value, steering_ratio: float) -> Value:
    """The front-wheel angle for a steering-wheel angle: ``steering_wheel / steering_ratio``."""
    return _same_kind(np.divide(steering_wheel, steering_ratio), steering_wheel)


@dataclass(frozen=True)
class SteeringCommand:
    """What may be sent to the car for one frame, after the limits."""

    stamp: float  # the source image's stamp, s
    curvature: float  # 1/m after limits (what may be sent)
    steering_angle: float  # front-wheel angle, rad: atan(wheelbase * curvature)
    raw_curvature: float  # the model's output before limits
    limits_active: tuple[str, ...]  # the limits that changed the value
    autonomous: bool  # the mode the frame was processed in

    @property
    def limited(self) -> bool:
        return bool(self.limits_active)


class SteeringLimiter:
    """Applies the configured limits to a stream of raw curvatures (one per image stamp)."""

    def __init__(self, config: PipelineConfig) -> None:
        self._config = config
        self._max_curvature = config.max_curvature
        self._magnitude_name = "max_curvature"
        if config.max_steering_angle_rad > 0:
            by_angle = math.tan(config.max_steering_angle_rad) / config.wheelbase_m
            if by_angle < self._max_curvature:
                self._max_curvature = by_angle
                self._magnitude_name = "max_steering_angle"
        # (stamp, receipt time, curvature) of the last command
        self._last: tuple[float, float, float] | None = None

    @property
    def max_curvature(self) -> float:
        """The tighter of ``max_curvature`` and the steering-angle limit, in 1/m."""
        return self._max_curvature

    def reset(self) -> None:
        """Forget the last command: the next one is not rate limited. The pipeline never calls
        this (a state reset, a gap or stamps going backwards keep the limit)."""
        self._last = None

    def _magnitude(self, value: float, speed: float | None, active: list[str]) -> float:
        bound, name = self._max_curvature, self._magnitude_name
        speed_sq = speed * speed if speed is not None else 0.0
        if self._config.max_lateral_accel > 0 and speed_sq > 0:  # (a tiny speed squares to 0)
            by_accel = self._config.max_lateral_accel / speed_sq
            if by_accel < bound:
                bound, name = by_accel, "max_lateral_accel"
        if abs(value) > bound:
            if name not in active:
                active.append(name)
            return math.copysign(bound, value)
        return value

    def apply(
        self, raw: float, stamp: float, speed: float | None = None, now: float | None = None
    ) -> tuple[float, tuple[str, ...]]:
        """Limit ``raw`` (finite, 1/m) for a frame stamped ``stamp`` and received at ``now``
        (default: the stamp); returns (curvature, names)."""
        now = stamp if now is None else now
        active: list[str] = []
        value = self._magnitude(raw, speed, active)
        if self._last is not None:
            last_stamp, last_now, last_value = self._last
            if stamp < last_stamp:  # a new stamp timeline: it starts from the last command
                interval = 0.0
            else:
                interval = max(min(stamp - last_stamp, now - last_now), 0.0)
            step = self._config.max_curvature_rate * interval
            if abs(value - last_value) > step:
                value = last_value + math.copysign(step, value - last_value)
                active.append("max_curvature_rate")
                value = self._magnitude(value, speed, active)
        self._last = (stamp, now, value)
        return value, tuple(active)

    def command(
        self,
        raw: float,
        stamp: float,
        autonomous: bool,
        speed: float | None = None,
        now: float | None = None,
    ) -> SteeringCommand:
        """The limited :class:`SteeringCommand` for the model's curvature ``raw``."""
        value, active = self.apply(raw, stamp, speed, now)
        angle = curvature_to_steering_angle(value, self._config.wheelbase_m)
        return SteeringCommand(stamp, value, angle, raw, active, autonomous)

"""The vehicle one step at a time: the kinematic bicycle on a road, and where it is on the road.

The same arithmetic :func:`ncp_driver.synth.simulate_drive` integrates a whole drive with, as
functions and a small stateful :class:`Vehicle`, so a closed loop (``ncp_driver.sim``) can
advance the car by one step from a command it did not know in advance.

- :func:`bicycle_step`: the kinematic bicycle model at the rear axle, ``yaw_rate = speed x
  curvature``, position advanced along the midpoint heading.
- :func:`project_on_road`: the vehicle's foot on the centreline (arc length, offset across,
  heading error), by walking a road index from the last one.
- :func:`speed_step`: the speed tracks a target with limited acceleration (the road's speed
  profile, as in the synthetic drives).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ncp_driver.synth.config import DriveConfig
from ncp_driver.synth.errors import SynthError
from ncp_driver.synth.road import Road, speed_profile

__all__ = [
    "MAX_CURVATURE",
    "START_S",
    "Pose",
    "Vehicle",
    "VehicleState",
    "bicycle_step",
    "project_on_road",
    "pure_pursuit",
    "speed_step",
]

MAX_CURVATURE = 0.25  # 1/m: the tightest the car can turn (a 4 m radius)
START_S = 10.0  # m along the road where a drive starts


@dataclass(frozen=True)
class Pose:
    """Where the car is (rear axle, ENU metres), where it points, and its arc length on the road."""

    x: float
    y: float
    heading: float  # rad, counter-clockwise from east (continuous)
    road_s: float  # m, arc length of the vehicle's projection on the centreline


@dataclass(frozen=True)
class VehicleState:
    """The vehicle after a step: pose, speed, the curvature it drove, its place in the lane."""

    t: float  # s since the start
    pose: Pose
    speed: float  # m/s
    curvature: float  # 1/m, the curvature driven during the step that ended here
    lateral_error: float  # m, left of the right lane's centre
    heading_error: float  # rad, vehicle heading minus road heading
    road_index: int  # road sample at or behind the projection

    @property
    def yaw_rate(self) -> float:
        return self.speed * self.curvature


def bicycle_step(
    x: float, y: float, heading: float, speed: float, curvature: float, dt: float
) -> tuple[float, float, float]:
    """One step of the kinematic bicycle (midpoint heading): the new x, y, heading."""
    yaw = speed * curvature * dt
    mid = heading + 0.5 * yaw
    x += speed * math.cos(mid) * dt
    y += speed * math.sin(mid) * dt
    return x, y, heading + yaw


def project_on_road(road: Road, x: float, y: float, index: int) -> tuple[int, float, float]:
    """(index, along, across): the road sample behind the foot of the perpendicular from
    (x, y), found by walking from ``index``; the distance along the road from that sample and
    the signed distance left of the centreline."""
    rx, ry, rh = road.x, road.y, road.heading
    i, last = index, rx.size - 2
    while (
        i < last
        and (x - rx[i + 1]) * math.cos(rh[i + 1]) + (y - ry[i + 1]) * math.sin(rh[i + 1]) > 0
    ):
        i += 1
    while i > 0 and (x - rx[i]) * math.cos(rh[i]) + (y - ry[i]) * math.sin(rh[i]) < 0:
        i -= 1
    ch, sh = math.cos(rh[i]), math.sin(rh[i])
    along = (x - rx[i]) * ch + (y - ry[i]) * sh
    across = -(x - rx[i]) * sh + (y - ry[i]) * ch
    return i, along, across


def pure_pursuit(
    road: Road,
    x: float,
    y: float,
    heading: float,
    speed: float,
    s: float,
    offset: float,
    preview_s: float,
) -> float:
    """The curvature that reaches the point ``preview_s`` x speed ahead (4-30 m) on the line
    ``offset`` metres left of the centreline: pure pursuit, ``2 x left / distance^2``."""
    look = min(max(preview_s * speed, 4.0), 30.0)
    j = min(int((s + look) / road.ds), road.x.size - 2)
    cj, sj = math.cos(road.heading[j]), math.sin(road.heading[j])
    tx = road.x[j] - sj * offset - x
    ty = road.y[j] + cj * offset - y
    cp, sp = math.cos(heading), math.sin(heading)
    fwd = tx * cp + ty * sp
    left = -tx * sp + ty * cp
    return float(2.0 * left / max(fwd * fwd + left * left, 1e-6))


def speed_step(speed: float, target: float, dt: float) -> float:
    """The speed after ``dt`` tracking ``target`` (time constant 1.25 s, -3 .. +1.5 m/s^2)."""
    return speed + min(max(0.8 * (target - speed), -3.0), 1.5) * dt


class Vehicle:
    """A car on ``road``, advanced one step at a time by the curvature it drives.

    It starts in the right lane's centre plus ``offset_m``, aligned with the road, at the road's
    speed, ``START_S`` metres along. Speed follows the road's speed profile (slower in curves,
    braking ahead of them) with the drive's acceleration limits, scaled by ``preference``.
    """

    def __init__(self, config: DriveConfig, road: Road, offset_m: float = 0.0) -> None:
        self.config = config
        self.road = road
        self.target_speed = speed_profile(
            road, config.min_speed_mps, config.max_speed_mps, config.max_lateral_accel
        )
        self._lane = -0.5 * config.lane_width_m
        i = round(START_S / road.ds)
        offset = self._lane + offset_m
        ct, st = math.cos(road.heading[i]), math.sin(road.heading[i])
        speed = min(max(float(self.target_speed[i]), config.min_speed_mps), config.max_speed_mps)
        self._x = float(road.x[i] - st * offset)
        self._y = float(road.y[i] + ct * offset)
        self._heading = float(road.heading[i])
        self._index = i
        self.state = self._state(0.0, speed, 0.0)

    def _state(self, t: float, speed: float, curvature: float) -> VehicleState:
        road = self.road
        i, along, across = project_on_road(road, self._x, self._y, self._index)
        self._index = i
        s = float(road.s[i] + along)
        if s + 50.0 > road.length:
            raise SynthError(
                f"the vehicle reached the end of the generated road ({road.length:.0f} m): "
                "generate a longer road or stop earlier"
            )
        return VehicleState(
            t=t,
            pose=Pose(self._x, self._y, self._heading, s),
            speed=speed,
            curvature=curvature,
            lateral_error=across - self._lane,
            heading_error=self._heading - float(road.heading[i]),
            road_index=i,
        )

    def advance(self, curvature: float, dt: float, preference: float = 1.0) -> VehicleState:
        """Drive ``dt`` seconds at ``curvature`` (clipped to +-MAX_CURVATURE); the new state."""
        if not (math.isfinite(curvature) and math.isfinite(dt) and dt > 0):
            raise SynthError(f"curvature {curvature} and step {dt} s must be finite (step > 0)")
        state = self.state
        driven = min(max(curvature, -MAX_CURVATURE), MAX_CURVATURE)
        self._x, self._y, self._heading = bicycle_step(
            self._x, self._y, self._heading, state.speed, driven, dt
        )
        cfg = self.config
        target = min(
            max(float(self.target_speed[state.road_index]) * preference, 0.5 * cfg.min_speed_mps),
            cfg.max_speed_mps,
        )
        speed = speed_step(state.speed, target, dt)
        self.state = self._state(state.t + dt, speed, driven)
        return self.state

    def pursue(self, offset_from_lane: float, preview_s: float) -> float:
        """The pure-pursuit curvature towards the right lane's centre + ``offset_from_lane``."""
        st = self.state
        return pure_pursuit(
            self.road,
            st.pose.x,
            st.pose.y,
            st.pose.heading,
            st.speed,
            st.pose.road_s,
            self._lane + offset_from_lane,
            preview_s,
        )

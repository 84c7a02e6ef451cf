"""The drive itself: a kinematic car following the road with a human-like driver. No rendering.

Vehicle: the kinematic bicycle model at the rear axle, integrated at ``sim_hz``:
``yaw_rate = speed * curvature``, position follows the heading. Driver: pure pursuit towards a
point ``preview_s * speed`` ahead on the right lane's centre, offset by a slow random wander
(and, before each takeover, a drift off the line); the command reaches the car after a
reaction delay, through a first-order steering lag, with fast steering noise added. Speed
tracks a profile that slows for curves, scaled by the driver's slowly varying preference.

Every message stream (camera, steering, GPS, auto flag) is sampled from this one trajectory at
its own rate; stamps are integer nanoseconds since the epoch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ncp_driver.geo import from_local_m
from ncp_driver.synth.config import DriveConfig, samples_before
from ncp_driver.synth.errors import SynthError
from ncp_driver.synth.road import Road, make_road, speed_profile
from ncp_driver.synth.schedule import ModeSchedule, make_schedule
from ncp_driver.synth.vehicle import (
    MAX_CURVATURE,
    START_S,
    bicycle_step,
    project_on_road,
    pure_pursuit,
    speed_step,
)
from ncp_driver.takeover import find_takeovers

__all__ = ["Drive", "GpsTrack", "ModeTrack", "Trajectory", "gps_track", "simulate_drive"]

_ROAD_MARGIN_M = 300.0  # road beyond the last position: look-ahead and what the camera sees


@dataclass(frozen=True)
class Trajectory:
    """Vehicle state at ``stamps_ns``. Positions are ENU metres around the GPS origin."""

    stamps_ns: np.ndarray  # int64, ns since the epoch
    x: np.ndarray  # east, m
    y: np.ndarray  # north, m
    heading: np.ndarray  # rad, counter-clockwise from east (continuous)
    speed: np.ndarray  # m/s
    curvature: np.ndarray  # 1/m driven (the label ``inverse_r``), positive = left
    lateral_error: np.ndarray  # m, left of the right lane's centre
    heading_error: np.ndarray  # rad, vehicle heading minus road heading
    road_s: np.ndarray  # m, arc length of the vehicle's projection on the road
    auto: np.ndarray  # bool, the auto-mode flag

    @property
    def stamps(self) -> np.ndarray:
        """Stamps in float seconds since the epoch."""
        return self.stamps_ns.astype(np.float64) * 1e-9

    @property
    def yaw_rate(self) -> np.ndarray:
        """rad/s: speed times curvature."""
        return self.speed * self.curvature

    def __len__(self) -> int:
        return int(self.stamps_ns.size)

    def sample(self, stamps_ns: np.ndarray) -> Trajectory:
        """The state at other stamps: linear interpolation, the flag held from the last sample."""
        base = self.stamps_ns[0]
        t = (self.stamps_ns - base).astype(np.float64)
        q = (np.asarray(stamps_ns, dtype=np.int64) - base).astype(np.float64)
        held = np.clip(np.searchsorted(t, q, side="right") - 1, 0, t.size - 1)

        def lerp(values: np.ndarray) -> np.ndarray:
            return np.interp(q, t, values)

        return Trajectory(
            stamps_ns=np.asarray(stamps_ns, dtype=np.int64),
            x=lerp(self.x),
            y=lerp(self.y),
            heading=lerp(self.heading),
            speed=lerp(self.speed),
            curvature=lerp(self.curvature),
            lateral_error=lerp(self.lateral_error),
            heading_error=lerp(self.heading_error),
            road_s=lerp(self.road_s),
            auto=self.auto[held],
        )


@dataclass(frozen=True)
class GpsTrack:
    """GPS fixes: the trajectory's position plus seeded noise, in WGS84 and ENU."""

    stamps_ns: np.ndarray
    latitude: np.ndarray  # deg
    longitude: np.ndarray  # deg
    altitude: np.ndarray  # m
    east: np.ndarray  # m, the noisy fix in ENU
    north: np.ndarray
    std_m: float  # horizontal standard deviation reported in the covariance


@dataclass(frozen=True)
class ModeTrack:
    """The auto-mode flag as published."""

    stamps_ns: np.ndarray
    auto: np.ndarray  # bool


@dataclass(frozen=True)
class Drive:
    """One simulated drive: the trajectory, the streams sampled from it, and the ground truth."""

    config: DriveConfig
    road: Road
    schedule: ModeSchedule
    sim: Trajectory  # at sim_hz
    camera: Trajectory  # at camera_hz: one entry per frame, the labels of the frames
    steering: Trajectory  # at steering_hz
    gps: GpsTrack
    mode: ModeTrack
    takeover_stamps_ns: np.ndarray  # the first manual flag sample of each takeover
    takeover_indices: np.ndarray = field(repr=False)  # into ``mode``

    @property
    def start_ns(self) -> int:
        return _epoch_ns(self.config.start_epoch_s)

    @property
    def frame_count(self) -> int:
        return len(self.camera)

    @property
    def takeover_stamps(self) -> np.ndarray:
        """Takeover stamps in float seconds since the epoch (as the takeover rule stamps them)."""
        return self.takeover_stamps_ns.astype(np.float64) * 1e-9

    def summary(self) -> dict[str, object]:
        """A JSON-able description: counts, takeovers, distance."""
        start = self.start_ns
        step = np.hypot(np.diff(self.sim.x), np.diff(self.sim.y))
        return {
            "seed": self.config.seed,
            "duration_s": self.config.duration_s,
            "start_epoch_s": self.config.start_epoch_s,
            "frames": self.frame_count,
            "frame_size": [self.config.height, self.config.width],
            "camera_hz": self.config.camera_hz,
            "gps_fixes": int(self.gps.stamps_ns.size),
            "mode_samples": int(self.mode.stamps_ns.size),
            "steering_samples": len(self.steering),
            "distance_m": round(float(step.sum()), 2),
            "engage_times_s": list(self.schedule.engage_s),
            "takeovers": int(self.takeover_stamps_ns.size),
            "takeover_stamps_ns": [int(t) for t in self.takeover_stamps_ns],
            "takeover_times_s": [
                round((int(t) - start) * 1e-9, 9) for t in self.takeover_stamps_ns
            ],
            "curvature_abs_max": round(float(np.abs(self.camera.curvature).max()), 6),
            "lateral_error_std_m": round(float(self.sim.lateral_error.std()), 4),
        }


def _epoch_ns(seconds: float) -> int:
    return round(seconds * 1e9)


def _stamps_ns(start_ns: int, duration_s: float, hz: float) -> np.ndarray:
    k = np.arange(samples_before(duration_s, hz), dtype=np.int64)
    return start_ns + np.round(k * (1e9 / hz)).astype(np.int64)


def _ou(rng: np.random.Generator, n: int, dt: float, tau: float, std: float) -> np.ndarray:
    """A stationary Ornstein-Uhlenbeck process (time constant ``tau``, standard deviation ``std``)."""
    out = np.empty(n)
    if std == 0:
        out.fill(0.0)
        return out
    a = math.exp(-dt / tau)
    b = std * math.sqrt(1.0 - a * a)
    shocks = rng.standard_normal(n)
    value = std * shocks[0]
    for i in range(n):
        value = a * value + b * shocks[i] if i else value
        out[i] = value
    return out


def simulate_drive(config: DriveConfig) -> Drive:
    """Simulate the drive ``config`` describes (deterministic in ``config.seed``)."""
    seeds = np.random.SeedSequence(config.seed).spawn(5)
    road_rng, driver_rng, mode_rng, gps_rng, _ = (np.random.default_rng(s) for s in seeds)

    road_length = config.duration_s * config.max_speed_mps * 1.1 + _ROAD_MARGIN_M + 50.0
    road = make_road(
        road_rng, road_length, config.lane_width_m, config.min_radius_m, config.max_radius_m
    )
    schedule = make_schedule(config, mode_rng)
    start_ns = _epoch_ns(config.start_epoch_s)
    sim = _integrate(config, road, schedule, driver_rng, start_ns)

    camera = sim.sample(_stamps_ns(start_ns, config.duration_s, config.camera_hz))
    steering = sim.sample(_stamps_ns(start_ns, config.duration_s, config.steering_hz))
    gps = gps_track(config, sim, _stamps_ns(start_ns, config.duration_s, config.gps_hz), gps_rng)

    mode_stamps = _stamps_ns(start_ns, config.duration_s, config.mode_hz)
    mode = ModeTrack(stamps_ns=mode_stamps, auto=schedule.is_auto(mode_stamps - start_ns))
    expected = np.array(
        [np.searchsorted(mode_stamps - start_ns, round(t * 1e9)) for t in schedule.takeover_s],
        dtype=np.int64,
    )
    counted = find_takeovers(mode_stamps * 1e-9, mode.auto)
    if not np.array_equal(counted, expected):  # the schedule's checks make this unreachable
        raise SynthError(
            f"the takeover rule counts flag samples {counted.tolist()}, the schedule says "
            f"{expected.tolist()}: the mode stretches are too short for the debounce"
        )
    return Drive(
        config=config,
        road=road,
        schedule=schedule,
        sim=sim,
        camera=camera,
        steering=steering,
        gps=gps,
        mode=mode,
        takeover_stamps_ns=mode_stamps[expected],
        takeover_indices=expected,
    )


def _integrate(
    config: DriveConfig,
    road: Road,
    schedule: ModeSchedule,
    rng: np.random.Generator,
    start_ns: int,
) -> Trajectory:
    """The vehicle and driver loop at ``sim_hz`` from 0 to ``duration_s`` inclusive."""
    dt = 1.0 / config.sim_hz
    n = round(config.duration_s * config.sim_hz) + 1
    rel_ns = np.round(np.arange(n) * (1e9 / config.sim_hz)).astype(np.int64)
    t = rel_ns * 1e-9
    auto = schedule.is_auto(rel_ns)

    # Driver's target offset from the road centreline (left positive): the right lane's centre,
    # a slow wander (smaller while the car drives itself), a drift before each takeover.
    wander = _ou(rng, n, dt, tau=4.0, std=config.wander_m)
    wander *= np.where(auto, 0.6, 1.0)
    offset = -0.5 * config.lane_width_m + wander
    window = config.drift_before_takeover_s
    for takeover in schedule.takeover_s:
        if window <= 0:
            break
        side = float(rng.choice((-1.0, 1.0)))
        ramp = np.clip((t - (takeover - window)) / window, 0.0, 1.0) * (t < takeover)
        offset += side * config.drift_m * ramp**2
    noise = _ou(rng, n, dt, tau=0.3, std=config.curvature_noise)
    preference = 1.0 + _ou(rng, n, dt, tau=8.0, std=0.06)

    v_road = speed_profile(
        road, config.min_speed_mps, config.max_speed_mps, config.max_lateral_accel
    )
    rx, ry, rh, rs = road.x, road.y, road.heading, road.s
    ds = road.ds
    delay = round(config.reaction_s / dt)
    lag = min(1.0, dt / config.steering_lag_s)
    max_curvature = MAX_CURVATURE

    out_x, out_y, out_h = np.empty(n), np.empty(n), np.empty(n)
    out_v, out_k = np.empty(n), np.empty(n)
    out_e, out_he, out_s = np.empty(n), np.empty(n), np.empty(n)

    # Start in the lane, aligned with the road, at the road's speed, LEAD_IN / 4 along.
    i = round(START_S / ds)
    ct, st_ = math.cos(rh[i]), math.sin(rh[i])
    px = rx[i] - st_ * offset[0]
    py = ry[i] + ct * offset[0]
    psi = float(rh[i])
    v = min(max(float(v_road[i] * preference[0]), config.min_speed_mps), config.max_speed_mps)
    kappa = 0.0
    commands = [0.0] * (delay + 1)

    for k in range(n):
        # Project onto the centreline: walk the index to the foot of the perpendicular.
        i, along, across = project_on_road(road, px, py, i)
        s_here = rs[i] + along
        if s_here + 50.0 > rs[-1]:
            raise SynthError("the vehicle reached the end of the generated road (internal limit)")

        out_x[k], out_y[k], out_h[k], out_v[k] = px, py, psi, v
        out_e[k] = across - (-0.5 * config.lane_width_m)
        out_he[k] = psi - rh[i]
        out_s[k] = s_here

        # Pure pursuit to the target point ahead on the offset line.
        command = pure_pursuit(road, px, py, psi, v, s_here, offset[k], config.preview_s)
        commands.append(command)
        applied = commands[-1 - delay]
        if len(commands) > delay + 8:
            del commands[: len(commands) - delay - 1]
        kappa += (applied - kappa) * lag
        driven = min(max(kappa + noise[k], -max_curvature), max_curvature)
        out_k[k] = driven

        # Kinematic bicycle step with the driven curvature (midpoint heading).
        px, py, psi = bicycle_step(px, py, psi, v, driven, dt)

        # Speed towards the profile (scaled by the driver's preference).
        target = min(
            max(v_road[i] * preference[k], 0.5 * config.min_speed_mps), config.max_speed_mps
        )
        v = speed_step(v, target, dt)

    return Trajectory(
        stamps_ns=start_ns + rel_ns,
        x=out_x,
        y=out_y,
        heading=out_h,
        speed=out_v,
        curvature=out_k,
        lateral_error=out_e,
        heading_error=out_he,
        road_s=out_s,
        auto=auto,
    )


def gps_track(
    config: DriveConfig, sim: Trajectory, stamps_ns: np.ndarray, rng: np.random.Generator
) -> GpsTrack:
    """Fixes with white noise and a slowly drifting bias, converted to WGS84 about the origin."""
    at = sim.sample(stamps_ns)
    n = stamps_ns.size
    dt = 1.0 / config.gps_hz
    east = at.x + _ou(rng, n, dt, 30.0, config.gps_bias_m) + rng.normal(0, config.gps_noise_m, n)
    north = at.y + _ou(rng, n, dt, 30.0, config.gps_bias_m) + rng.normal(0, config.gps_noise_m, n)
    up = _ou(rng, n, dt, 30.0, 2.0 * config.gps_bias_m) + rng.normal(0, 2 * config.gps_noise_m, n)
    latitude, longitude = from_local_m(east, north, (config.origin_lat, config.origin_lon))
    return GpsTrack(
        stamps_ns=stamps_ns,
        latitude=latitude,
        longitude=longitude,
        altitude=config.origin_alt + up,
        east=east,
        north=north,
        std_m=math.hypot(config.gps_noise_m, config.gps_bias_m),
    )

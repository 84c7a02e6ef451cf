"""What a synthetic drive is made of: one frozen, validated set of parameters (SI units)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from ncp_driver.synth.errors import SynthError
from ncp_driver.takeover import DEFAULT_MIN_DURATION_S

__all__ = ["START_EPOCH_S", "DriveConfig", "samples_before"]

START_EPOCH_S = 1588334400.0  # 2020-05-01T12:00:00Z


@dataclass(frozen=True)
class DriveConfig:
    """Parameters of one synthetic drive; the same config and seed give the same drive.

    Times are seconds after the start of the drive unless named ``*_epoch_s``; angles in
    degrees where the name says so; curvature in 1/m, positive to the left (REP 103).
    """

    seed: int = 0
    duration_s: float = 60.0
    start_epoch_s: float = START_EPOCH_S

    # Message rates (Hz). The paper's camera rate is not known; 15 Hz is our choice.
    camera_hz: float = 15.0
    gps_hz: float = 10.0
    mode_hz: float = 20.0
    steering_hz: float = 20.0
    sim_hz: float = 100.0  # integration rate of the vehicle model

    # Camera: frame size, pinhole model, and the resolution the scene is rendered at.
    height: int = 1208
    width: int = 1920
    render_scale: float = 0.4  # render at this fraction of the frame size, then upscale
    camera_height_m: float = 1.3
    camera_forward_m: float = 1.5  # camera ahead of the rear axle (the vehicle's reference)
    horizon: float = 0.46  # horizon row as a fraction of the frame height (sets the pitch)
    hfov_deg: float = 80.0  # horizontal field of view (sets the focal length)

    # Auto-mode flag: explicit takeover times, or a seeded count of them.
    takeover_count: int = 3
    takeover_times_s: tuple[float, ...] | None = None
    engage_times_s: tuple[float, ...] | None = None  # default: first_engage_s, then after manual_s
    first_engage_s: float = 3.0
    manual_s: tuple[float, float] = (2.5, 6.0)  # range of a manual stretch after a takeover
    min_auto_s: float = 4.0  # shortest autonomous stretch the seeded schedule makes
    drift_before_takeover_s: float = 1.5  # the car drifts off its line before a takeover
    drift_m: float = 0.9

    # Road.
    lane_width_m: float = 3.5
    min_radius_m: float = 30.0
    max_radius_m: float = 300.0

    # Vehicle and driver.
    min_speed_mps: float = 5.0
    max_speed_mps: float = 15.0
    max_lateral_accel: float = 2.0  # sets the speed in curves
    wheelbase_m: float = 2.7
    reaction_s: float = 0.25  # driver's reaction delay
    preview_s: float = 1.0  # pure-pursuit look-ahead time
    steering_lag_s: float = 0.2  # first-order lag from commanded to driven curvature
    wander_m: float = 0.3  # std of the driver's slow lateral wander around the lane centre
    curvature_noise: float = 0.0015  # std of fast steering noise, 1/m

    # GPS (ENU around this origin).
    origin_lat: float = 48.19861  # TU Wien, Vienna
    origin_lon: float = 16.36991
    origin_alt: float = 180.0
    gps_noise_m: float = 0.3  # white noise per axis
    gps_bias_m: float = 0.5  # slowly drifting bias per axis

    def __post_init__(self) -> None:
        for name in ("takeover_times_s", "engage_times_s", "manual_s"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(float(v) for v in value))
        self.validate()

    @property
    def frame_count(self) -> int:
        """Number of camera frames: stamps k / camera_hz for k < duration * camera_hz."""
        return samples_before(self.duration_s, self.camera_hz)

    def fitting_takeover_count(self, cap: int = 3) -> int:
        """The most seeded takeovers (up to ``cap``) that surely fit in ``duration_s``.

        Each but the last needs an autonomous stretch (``min_auto_s``) and the longest manual
        one; the last needs its autonomous stretch and the debounce before the end.
        """
        guard = DEFAULT_MIN_DURATION_S + 2.0 / self.mode_hz
        per = self.min_auto_s + self.manual_s[1]
        room = self.duration_s - self.first_engage_s - guard - 0.01 + self.manual_s[1]
        return max(0, min(cap, int(room // per)))

    def validate(self) -> None:
        """Raise :class:`SynthError` naming the first bad setting and what it must be."""
        positive = {
            "duration_s": self.duration_s,
            "camera_hz": self.camera_hz,
            "gps_hz": self.gps_hz,
            "mode_hz": self.mode_hz,
            "steering_hz": self.steering_hz,
            "sim_hz": self.sim_hz,
            "render_scale": self.render_scale,
            "camera_height_m": self.camera_height_m,
            "hfov_deg": self.hfov_deg,
            "lane_width_m": self.lane_width_m,
            "min_radius_m": self.min_radius_m,
            "max_radius_m": self.max_radius_m,
            "min_speed_mps": self.min_speed_mps,
            "max_speed_mps": self.max_speed_mps,
            "max_lateral_accel": self.max_lateral_accel,
            "wheelbase_m": self.wheelbase_m,
            "preview_s": self.preview_s,
            "steering_lag_s": self.steering_lag_s,
            "min_auto_s": self.min_auto_s,
        }
        for name, value in positive.items():
            if not (math.isfinite(value) and value > 0):
                raise SynthError(f"{name} = {value} must be a finite number > 0")
        non_negative = {
            "reaction_s": self.reaction_s,
            "wander_m": self.wander_m,
            "curvature_noise": self.curvature_noise,
            "drift_before_takeover_s": self.drift_before_takeover_s,
            "drift_m": self.drift_m,
            "gps_noise_m": self.gps_noise_m,
            "gps_bias_m": self.gps_bias_m,
            "first_engage_s": self.first_engage_s,
            "camera_forward_m": self.camera_forward_m,
        }
        for name, value in non_negative.items():
            if not (math.isfinite(value) and value >= 0):
                raise SynthError(f"{name} = {value} must be a finite number >= 0")
        if self.height < 16 or self.width < 16:
            raise SynthError(f"frame size {self.width} x {self.height} is too small: use >= 16 px")
        if min(round(self.height * self.render_scale), round(self.width * self.render_scale)) < 8:
            raise SynthError(
                f"render_scale {self.render_scale} leaves under 8 px: raise it or the frame size"
            )
        if self.render_scale > 1:
            raise SynthError(f"render_scale = {self.render_scale} must be <= 1")
        if not 0.05 <= self.horizon <= 0.95:
            raise SynthError(f"horizon = {self.horizon} must be a frame fraction in [0.05, 0.95]")
        if not self.hfov_deg < 170:
            raise SynthError(f"hfov_deg = {self.hfov_deg} must be < 170")
        if self.min_radius_m > self.max_radius_m:
            raise SynthError(
                f"min_radius_m {self.min_radius_m} must not exceed max_radius_m {self.max_radius_m}"
            )
        if self.min_speed_mps > self.max_speed_mps:
            raise SynthError(
                f"min_speed_mps {self.min_speed_mps} must not exceed max_speed_mps {self.max_speed_mps}"
            )
        if self.sim_hz < 2 * max(self.camera_hz, self.gps_hz, self.mode_hz, self.steering_hz):
            raise SynthError(
                f"sim_hz = {self.sim_hz} must be at least twice the fastest message rate"
            )
        if self.takeover_count < 0:
            raise SynthError(f"takeover_count = {self.takeover_count} must be >= 0")
        low, high = self.manual_s
        if not (DEFAULT_MIN_DURATION_S < low <= high):
            raise SynthError(
                f"manual_s = {self.manual_s} must be a range (low, high) with "
                f"{DEFAULT_MIN_DURATION_S} s (the takeover debounce) < low <= high"
            )
        if self.frame_count < 1:
            raise SynthError(
                f"duration_s = {self.duration_s} at camera_hz = {self.camera_hz} gives no frame"
            )
        if not (-90 < self.origin_lat < 90 and -180 <= self.origin_lon <= 180):
            raise SynthError(f"origin {self.origin_lat}, {self.origin_lon} is not a lat/lon")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (tuples become lists)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = list(value)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriveConfig:
        """Build from plain values (e.g. :meth:`to_dict`), rejecting unknown names."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SynthError(f"unknown drive settings {unknown}; known: {sorted(known)}")
        values: dict[str, Any] = {
            key: tuple(value) if isinstance(value, list) else value for key, value in data.items()
        }
        try:
            return cls(**values)
        except TypeError as exc:
            raise SynthError(str(exc)) from exc


def samples_before(duration_s: float, hz: float) -> int:
    """How many samples k / hz (k = 0, 1, ...) fall strictly before ``duration_s``."""
    return math.ceil(round(duration_s * hz, 9))

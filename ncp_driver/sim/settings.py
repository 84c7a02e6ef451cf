"""What a closed-loop run is made of: the roads, the actuator, the safety driver (SI units)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from ncp_driver.replay.noise import PAPER_NOISE_SEED
from ncp_driver.sim.errors import SimSettingsError
from ncp_driver.takeover import DEFAULT_MIN_DURATION_S

__all__ = ["DEFAULT_ROAD_SEED", "SimSettings"]

DEFAULT_ROAD_SEED = (
    300  # roads 300, 301, ...: none is a training (100-105, 200-201) or demo (7) road
)


@dataclass(frozen=True)
class SimSettings:
    """One closed-loop experiment: every model and noise level drives these roads alike."""

    # Roads: ``roads`` procedural roads, seeds ``seed``, ``seed + 1``, ...; each drive stops
    # after ``road_m`` metres along the road.
    roads: int = 3
    seed: int = DEFAULT_ROAD_SEED
    road_m: float = 1000.0

    # Camera and integration.
    camera_hz: float = 15.0
    sim_hz: float = 100.0
    height: int = 1208  # the frame the camera gives (the default model's training frames)
    width: int = 1920
    render_scale: float = 0.4  # as the synthetic drives render
    band_only: bool = True  # render only the pixels the model's crop needs (same band pixels)

    # Actuator: the command reaches the wheels after ``actuator_delay_s`` plus the pipeline's
    # compute time (``compute_s``; None = measured at start), through a first-order lag.
    actuator_delay_s: float = 0.1
    actuator_lag_s: float = 0.2
    compute_s: float | None = None

    # The virtual safety driver (VISTA's lane-following rule by default).
    car_width_m: float = 1.8
    max_offset_m: float | None = None  # None: (lane width - car width) / 2
    max_heading_error_rad: float = math.pi / 10
    hold_s: float = 3.0  # manual at least this long after a takeover, then re-engage
    reengage_offset_m: float = 0.3  # ... once the car is back within this of the lane centre
    engage_at_s: float = 1.0  # the human starts the drive; the car engages after this

    # Input noise (the paper's protocol, as ncp-replay): one closed-loop run per level.
    noise_levels: tuple[float, ...] = (0.0,)
    noise_seed: int = PAPER_NOISE_SEED

    # Rates of the recorded topics.
    gps_hz: float = 10.0
    mode_hz: float = 20.0
    steering_hz: float = 20.0
    odometry_hz: float = 50.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "noise_levels", tuple(float(s) for s in self.noise_levels))
        self.validate()

    @property
    def road_seeds(self) -> tuple[int, ...]:
        return tuple(self.seed + i for i in range(self.roads))

    def offset_limit(self, lane_width_m: float) -> float:
        """|lateral offset| beyond which the safety driver takes over."""
        if self.max_offset_m is not None:
            return self.max_offset_m
        return 0.5 * (lane_width_m - self.car_width_m)

    def validate(self) -> None:
        """Raise :class:`SimSettingsError` naming the first bad setting and what it must be."""
        if self.roads < 1:
            raise SimSettingsError(f"roads = {self.roads} must be >= 1")
        positive = {
            "road_m": self.road_m,
            "camera_hz": self.camera_hz,
            "sim_hz": self.sim_hz,
            "render_scale": self.render_scale,
            "actuator_lag_s": self.actuator_lag_s,
            "car_width_m": self.car_width_m,
            "max_heading_error_rad": self.max_heading_error_rad,
            "reengage_offset_m": self.reengage_offset_m,
            "gps_hz": self.gps_hz,
            "mode_hz": self.mode_hz,
            "steering_hz": self.steering_hz,
            "odometry_hz": self.odometry_hz,
        }
        for name, value in positive.items():
            if not (math.isfinite(value) and value > 0):
                raise SimSettingsError(f"{name} = {value} must be a finite number > 0")
        for name, value in {
            "actuator_delay_s": self.actuator_delay_s,
            "engage_at_s": self.engage_at_s,
            "compute_s": 0.0 if self.compute_s is None else self.compute_s,
        }.items():
            if not (math.isfinite(value) and value >= 0):
                raise SimSettingsError(f"{name} = {value} must be a finite number >= 0")
        if self.max_offset_m is not None and not (
            math.isfinite(self.max_offset_m) and self.max_offset_m > 0
        ):
            raise SimSettingsError(
                f"max_offset_m = {self.max_offset_m} must be a finite number > 0"
            )
        if self.hold_s <= DEFAULT_MIN_DURATION_S + 2.0 / self.mode_hz:
            raise SimSettingsError(
                f"hold_s = {self.hold_s} must exceed the takeover rule's debounce "
                f"({DEFAULT_MIN_DURATION_S} s) plus two flag samples, or takeovers go uncounted"
            )
        if self.engage_at_s and self.engage_at_s <= DEFAULT_MIN_DURATION_S + 2.0 / self.mode_hz:
            raise SimSettingsError(
                f"engage_at_s = {self.engage_at_s} must be 0 or exceed the takeover debounce "
                f"({DEFAULT_MIN_DURATION_S} s) plus two flag samples"
            )
        if self.sim_hz < 2 * max(self.camera_hz, self.gps_hz, self.mode_hz, self.steering_hz):
            raise SimSettingsError(
                f"sim_hz = {self.sim_hz} must be at least twice the fastest topic rate"
            )
        if not self.noise_levels:
            raise SimSettingsError("noise_levels is empty: give at least one level (0 = no noise)")
        if any(not (math.isfinite(s) and s >= 0) for s in self.noise_levels):
            raise SimSettingsError(
                f"noise levels {list(self.noise_levels)} must be finite and >= 0"
            )
        if len(set(self.noise_levels)) != len(self.noise_levels):
            raise SimSettingsError(f"noise levels {list(self.noise_levels)} repeat a level")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["noise_levels"] = list(self.noise_levels)
        return out

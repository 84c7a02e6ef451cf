"""Settings of the on-car pipeline: one definition for the ROS 2 node's parameters and the replay.

Every field here is a node parameter of the same name (see ros2_ws/.../config/driver.yaml).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from ncp_driver.errors import ConfigError

SPEED_TIMEOUT_S = 0.5  # a speed older than this is unknown (the car and the replay)

__all__ = ["MANUAL_MODES", "PROVIDERS", "SPEED_TIMEOUT_S", "PipelineConfig"]

PROVIDERS = ("tensorrt", "cuda", "cpu")
MANUAL_MODES = ("reset", "shadow")


@dataclass(frozen=True)
class PipelineConfig:
    """How the pipeline runs the model and limits its commands. Units are SI unless named."""

    # Model and runtime.
    model_path: str = ""
    providers: tuple[str, ...] = ("cpu",)  # in order of preference: tensorrt, cuda, cpu
    allow_provider_fallback: bool = False  # if a GPU provider is missing: fail (False) or fall back
    intra_op_threads: int = 1
    warmup_runs: int = 3
    trt_cache_dir: str = ""  # TensorRT engine cache ("" = next to the model)
    gpu_device_id: int = 0  # the CUDA device for the cuda and tensorrt providers

    # Vehicle (bicycle model): front-wheel angle = atan(wheelbase * curvature).
    wheelbase_m: float = 2.7

    # The speed for max_lateral_accel (ncp_driver.runtime.speed): the latest drive.speed, for
    # this long after it was received (then unknown).
    speed_timeout_s: float = SPEED_TIMEOUT_S

    # Limits applied before a command leaves.
    max_curvature: float = 0.2  # 1/m (a 5 m radius)
    max_steering_angle_rad: float = 0.0  # front-wheel angle limit; 0 = only max_curvature applies
    max_curvature_rate: float = 0.5  # 1/m per second
    max_lateral_accel: float = 0.0  # m/s^2 given the current speed; 0 = off (needs a speed)

    # Timing and state.
    watchdog_timeout_s: float = 0.5  # no usable frame for this long: command nothing
    auto_mode_timeout_s: float = 1.0  # no auto-mode flag for this long: manual (AutoModeWatch)
    reset_gap_s: float = 1.0  # a gap between frame stamps longer than this resets the state
    min_elapsed_s: float = 0.001  # the model's elapsed time is clamped to this range
    max_elapsed_s: float = 0.5
    default_elapsed_s: float = 1.0 / 30.0  # elapsed time used for the first frame after a reset
    manual_mode: str = (
        "reset"  # "reset": reset state every manual frame (paper); "shadow": keep running
    )

    # Images.
    reduced_jpeg_decode: bool = (
        True  # decode JPEG at 1/2, 1/4 or 1/8 scale when the crop shrinks that much
    )

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first bad setting and its allowed range."""
        unknown = [p for p in self.providers if p not in PROVIDERS]
        if not self.providers or unknown:
            raise ConfigError(
                f"providers {list(self.providers)} must be a non-empty list drawn from {list(PROVIDERS)}"
            )
        if self.manual_mode not in MANUAL_MODES:
            raise ConfigError(
                f"manual_mode {self.manual_mode!r} must be one of {list(MANUAL_MODES)}"
            )
        positive = {
            "wheelbase_m": self.wheelbase_m,
            "speed_timeout_s": self.speed_timeout_s,
            "max_curvature": self.max_curvature,
            "max_curvature_rate": self.max_curvature_rate,
            "watchdog_timeout_s": self.watchdog_timeout_s,
            "auto_mode_timeout_s": self.auto_mode_timeout_s,
            "reset_gap_s": self.reset_gap_s,
            "min_elapsed_s": self.min_elapsed_s,
            "max_elapsed_s": self.max_elapsed_s,
            "default_elapsed_s": self.default_elapsed_s,
        }
        for name, value in positive.items():
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{name} = {value} must be a finite number > 0")
        for name, value in {
            "max_steering_angle_rad": self.max_steering_angle_rad,
            "max_lateral_accel": self.max_lateral_accel,
        }.items():
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"{name} = {value} must be a finite number >= 0 (0 turns it off)")
        if self.max_steering_angle_rad >= math.pi / 2:
            raise ConfigError(
                f"max_steering_angle_rad = {self.max_steering_angle_rad} must be < pi/2"
            )
        if self.min_elapsed_s > self.max_elapsed_s:
            raise ConfigError(
                f"min_elapsed_s {self.min_elapsed_s} must not exceed max_elapsed_s {self.max_elapsed_s}"
            )
        if self.intra_op_threads < 0:
            raise ConfigError(
                f"intra_op_threads = {self.intra_op_threads} must be >= 0 (0 = onnxruntime's choice)"
            )
        if self.gpu_device_id < 0:
            raise ConfigError(f"gpu_device_id = {self.gpu_device_id} must be >= 0")
        if self.warmup_runs < 0:
            raise ConfigError(f"warmup_runs = {self.warmup_runs} must be >= 0")

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> PipelineConfig:
        """Build from a plain mapping (node parameters, YAML), rejecting unknown names."""
        known = {f.name for f in fields(cls)}
        if "steering_ratio" in values:
            raise ConfigError(
                "steering_ratio was removed: the command's steering_angle is the front-wheel "
                "angle, as ackermann_msgs/AckermannDrive defines it. For a drive-by-wire that "
                "takes a steering-wheel angle, set the node's steering_wheel_ratio (it publishes "
                "the steering-wheel angle on steering_wheel_topic)"
            )
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown pipeline settings {unknown}; known: {sorted(known)}")
        values = dict(values)
        if "providers" in values:
            values["providers"] = tuple(values["providers"])
        try:
            return cls(**values)
        except TypeError as exc:
            raise ConfigError(str(exc)) from exc

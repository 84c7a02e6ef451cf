"""The node's parameters: one spec per parameter, split into the pipeline's and the node's own.

Every :class:`~ncp_driver.runtime.PipelineConfig` field is a parameter of the same name (its
default is the field's default); :class:`NodeSettings` holds the ROS-only ones (topics,
transport, what to publish, diagnostics thresholds). Nothing here imports rclpy: the node
declares :func:`parameter_specs` and hands the values back to :func:`build_settings`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ncp_driver import topics
from ncp_driver.errors import ConfigError
from ncp_driver.runtime import PipelineConfig
from ncp_driver.runtime.config import MANUAL_MODES, PROVIDERS
from ncp_driver_ros.errors import StartupError

__all__ = [
    "PIPELINE_DESCRIPTIONS",
    "TRANSPORTS",
    "NodeSettings",
    "ParamSpec",
    "build_settings",
    "checked_value",
    "parameter_specs",
    "parameter_table",
]

TRANSPORTS = ("raw", "compressed")

ParamValue = bool | int | float | str | tuple[str, ...]


@dataclass(frozen=True)
class ParamSpec:
    """One declared parameter: name, default, description, and the range or choices it takes."""

    name: str
    default: ParamValue
    description: str
    range: tuple[float, float] | None = None  # inclusive; becomes a Floating/IntegerRange
    choices: tuple[str, ...] = ()  # allowed strings (or list items), stated in the descriptor
    pipeline: bool = False  # a PipelineConfig field

    @property
    def ros_default(self) -> bool | int | float | str | list[str]:
        """The default as rclpy declares it (a tuple becomes a string array)."""
        return list(self.default) if isinstance(self.default, tuple) else self.default

    @property
    def constraints(self) -> str:
        """Human-readable constraints (ParameterDescriptor.additional_constraints)."""
        parts = []
        if self.range is not None:
            parts.append(f"range [{self.range[0]:g}, {self.range[1]:g}]")
        if self.choices:
            parts.append("one of " + ", ".join(self.choices))
        return "; ".join(parts)


# Descriptions of the PipelineConfig fields (a test checks that every field has one).
PIPELINE_DESCRIPTIONS: dict[str, str] = {
    "model_path": "Exported ONNX steering model (ncp-export). Required.",
    "providers": "onnxruntime execution providers in order of preference: tensorrt, cuda, cpu.",
    "allow_provider_fallback": "If a requested GPU provider is missing: fall back (true) or stop "
    "the node at start (false).",
    "intra_op_threads": "onnxruntime intra-op threads (0 = onnxruntime's choice).",
    "warmup_runs": "Inference runs at start before the first frame (the first runs are slow).",
    "trt_cache_dir": "TensorRT engine cache directory ('' = next to the model).",
    "gpu_device_id": "CUDA device index for the cuda and tensorrt providers.",
    "wheelbase_m": "Vehicle wheelbase in m: front-wheel angle = atan(wheelbase * curvature).",
    "speed_timeout_s": "A speed received longer ago than this is unknown, s.",
    "max_curvature": "Largest |curvature| commanded, 1/m.",
    "max_steering_angle_rad": "Largest |front-wheel angle| commanded, rad (0 = only "
    "max_curvature applies).",
    "max_curvature_rate": "Largest change of curvature, 1/m per second.",
    "max_lateral_accel": "Largest lateral acceleration at the current speed, m/s^2 (0 = off; "
    "needs speed_topic; no command while the speed is unknown).",
    "watchdog_timeout_s": "No usable frame for this long: no commands (the drive-by-wire must "
    "time out on their stamps) and diagnostics go to ERROR.",
    "auto_mode_timeout_s": "No auto-mode message for this long: the car is treated as manual "
    "(nothing autonomous is commanded) and diagnostics go to ERROR; the flag's publisher must "
    "repeat it faster than this.",
    "reset_gap_s": "A gap between frame stamps longer than this resets the recurrent state.",
    "min_elapsed_s": "Lower clamp of the model's elapsed time between frames, s.",
    "max_elapsed_s": "Upper clamp of the model's elapsed time between frames, s.",
    "default_elapsed_s": "Elapsed time used for the first frame after a reset, s.",
    "manual_mode": "While the driver steers: 'reset' the state every frame (the paper) or "
    "'shadow' (keep running).",
    "reduced_jpeg_decode": "Decode JPEG frames at 1/2, 1/4 or 1/8 scale when the crop shrinks "
    "that much (faster, same model input size).",
}

_PIPELINE_RANGES: dict[str, tuple[float, float]] = {
    "intra_op_threads": (0, 256),
    "warmup_runs": (0, 1000),
    "gpu_device_id": (0, 64),
    "wheelbase_m": (0.0, 20.0),
    "speed_timeout_s": (0.01, 60.0),
    "max_curvature": (0.0, 10.0),
    "max_steering_angle_rad": (0.0, 1.57),
    "max_curvature_rate": (0.0, 100.0),
    "max_lateral_accel": (0.0, 50.0),
    "watchdog_timeout_s": (0.0, 60.0),
    "auto_mode_timeout_s": (0.05, 60.0),
    "reset_gap_s": (0.0, 3600.0),
    "min_elapsed_s": (0.0, 10.0),
    "max_elapsed_s": (0.0, 10.0),
    "default_elapsed_s": (0.0, 10.0),
}

_PIPELINE_CHOICES: dict[str, tuple[str, ...]] = {
    "providers": PROVIDERS,
    "manual_mode": MANUAL_MODES,
}


@dataclass(frozen=True)
class NodeSettings:
    """The node's own parameters (not pipeline behaviour: where things come from and go)."""

    camera_topic: str = ""
    camera_transport: str = "raw"
    auto_mode_topic: str = topics.AUTO_MODE
    speed_topic: str = ""
    command_topic: str = topics.COMMAND
    curvature_topic: str = topics.CURVATURE
    neurons_topic: str = topics.NEURONS
    diagnostics_topic: str = topics.DIAGNOSTICS
    steering_wheel_ratio: float = 0.0
    steering_wheel_topic: str = topics.STEERING_WHEEL
    frame_id: str = topics.COMMAND_FRAME_ID
    publish_neurons: bool = True
    publish_when_manual: bool = True
    diagnostics_period_s: float = 1.0
    startup_timeout_s: float = 10.0
    latency_window: int = 300
    warn_latency_p99_ms: float = 50.0
    warn_drop_ratio: float = 0.2
    warn_limited_ratio: float = 0.5

    def __post_init__(self) -> None:
        self.validate()

    @property
    def camera(self) -> str:
        """The camera topic: the parameter, or the transport's default when it is empty."""
        if self.camera_topic:
            return self.camera_topic
        return (
            topics.CAMERA_COMPRESSED if self.camera_transport == "compressed" else topics.CAMERA_RAW
        )

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first bad setting and what it must be."""
        if self.camera_transport not in TRANSPORTS:
            raise ConfigError(
                f"camera_transport {self.camera_transport!r} must be one of {list(TRANSPORTS)}: "
                "'raw' subscribes sensor_msgs/Image, 'compressed' sensor_msgs/CompressedImage"
            )
        for name in (
            "auto_mode_topic",
            "command_topic",
            "curvature_topic",
            "neurons_topic",
            "diagnostics_topic",
        ):
            if not getattr(self, name).strip():
                raise ConfigError(f"{name} is empty: give a topic name")
        for name in (
            "diagnostics_period_s",
            "startup_timeout_s",
            "warn_latency_p99_ms",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{name} = {value} must be a finite number > 0")
        for name in ("warn_drop_ratio", "warn_limited_ratio"):
            value = getattr(self, name)
            if not (0.0 <= value <= 1.0):
                raise ConfigError(f"{name} = {value} must be a share between 0 and 1")
        if not (math.isfinite(self.steering_wheel_ratio) and self.steering_wheel_ratio >= 0):
            raise ConfigError(
                f"steering_wheel_ratio = {self.steering_wheel_ratio} must be a finite number >= 0 "
                "(0 turns the steering-wheel angle off)"
            )
        if self.steering_wheel_ratio > 0 and not self.steering_wheel_topic.strip():
            raise ConfigError("steering_wheel_topic is empty: give a topic name")
        if self.latency_window < 10:
            raise ConfigError(f"latency_window = {self.latency_window} must be >= 10 frames")


_NODE_DESCRIPTIONS: dict[str, tuple[str, tuple[float, float] | None, tuple[str, ...]]] = {
    "camera_topic": (
        f"Camera topic ('' = {topics.CAMERA_RAW} for raw, {topics.CAMERA_COMPRESSED} for "
        "compressed).",
        None,
        (),
    ),
    "camera_transport": (
        "'raw' (sensor_msgs/Image) or 'compressed' (sensor_msgs/CompressedImage).",
        None,
        TRANSPORTS,
    ),
    "auto_mode_topic": ("std_msgs/Bool, true while the car drives itself.", None, ()),
    "speed_topic": (
        "ackermann_msgs/AckermannDriveStamped whose drive.speed is the vehicle speed, for "
        "max_lateral_accel ('' = none).",
        None,
        (),
    ),
    "command_topic": (
        "ackermann_msgs/AckermannDriveStamped out: steering_angle is the front-wheel angle in "
        "rad, stamped with the camera frame's stamp.",
        None,
        (),
    ),
    "curvature_topic": ("std_msgs/Float32 out: the commanded curvature, 1/m.", None, ()),
    "neurons_topic": ("std_msgs/Float32MultiArray out: the neuron potentials.", None, ()),
    "diagnostics_topic": ("diagnostic_msgs/DiagnosticArray out.", None, ()),
    "steering_wheel_ratio": (
        "Steering-wheel angle / front-wheel angle, for a drive-by-wire that takes a "
        "steering-wheel angle: publish it on steering_wheel_topic (0 = off).",
        (0.0, 100.0),
        (),
    ),
    "steering_wheel_topic": (
        "std_msgs/Float32 out (with steering_wheel_ratio > 0): the commanded steering-wheel "
        "angle, rad.",
        None,
        (),
    ),
    "frame_id": ("header.frame_id of the commands.", None, ()),
    "publish_neurons": ("Publish the neuron potentials every frame.", None, ()),
    "publish_when_manual": (
        "Publish commands in manual mode too (the drive-by-wire gate decides what to use).",
        None,
        (),
    ),
    "diagnostics_period_s": ("Diagnostics period, s.", (0.05, 60.0), ()),
    "startup_timeout_s": (
        "No frame this long after start: diagnostics ERROR, s.",
        (0.1, 3600.0),
        (),
    ),
    "latency_window": ("Frames in the latency median/p99 window.", (10, 100000), ()),
    "warn_latency_p99_ms": (
        "Processing latency p99 above this: WARN, ms.",
        (1.0, 10000.0),
        (),
    ),
    "warn_drop_ratio": ("Share of frames dropped in a period above this: WARN.", (0.0, 1.0), ()),
    "warn_limited_ratio": (
        "Share of commands changed by a limit in a period above this: WARN.",
        (0.0, 1.0),
        (),
    ),
}


def parameter_specs() -> tuple[ParamSpec, ...]:
    """Every parameter the node declares: the pipeline's first, then the node's own."""
    specs = []
    for field in fields(PipelineConfig):
        default = field.default
        specs.append(
            ParamSpec(
                name=field.name,
                default=default,  # type: ignore[arg-type]
                description=PIPELINE_DESCRIPTIONS.get(field.name, field.name.replace("_", " ")),
                range=_PIPELINE_RANGES.get(field.name),
                choices=_PIPELINE_CHOICES.get(field.name, ()),
                pipeline=True,
            )
        )
    for field in fields(NodeSettings):
        description, rng, choices = _NODE_DESCRIPTIONS[field.name]
        specs.append(ParamSpec(field.name, field.default, description, rng, choices))  # type: ignore[arg-type]
    return tuple(specs)


def build_settings(values: Mapping[str, Any]) -> tuple[PipelineConfig, NodeSettings]:
    """Validate parameter values; raise :class:`ConfigError` saying which one and why."""
    pipeline_names = {f.name for f in fields(PipelineConfig)}
    node_names = {f.name for f in fields(NodeSettings)}
    unknown = sorted(set(values) - pipeline_names - node_names)
    if unknown:
        raise ConfigError(f"unknown parameters {unknown}")
    pipeline_values = {k: _plain(v) for k, v in values.items() if k in pipeline_names}
    node_values = {k: _plain(v) for k, v in values.items() if k in node_names}
    if not str(pipeline_values.get("model_path", "")).strip():
        raise ConfigError(
            "model_path is empty: give the exported ONNX model, e.g. "
            "`ros2 launch ncp_driver_ros driver.launch.py model:=/path/to/model.onnx` or "
            "`--ros-args -p model_path:=/path/to/model.onnx`"
        )
    config = PipelineConfig.from_mapping(pipeline_values)
    try:
        settings = NodeSettings(**node_values)
    except TypeError as exc:
        raise ConfigError(str(exc)) from exc
    if config.max_lateral_accel > 0 and not settings.speed_topic:
        raise ConfigError(
            f"max_lateral_accel = {config.max_lateral_accel} needs the vehicle speed: set "
            "speed_topic (AckermannDriveStamped, drive.speed) or set max_lateral_accel to 0"
        )
    return config, settings


def parameter_table() -> str:
    """The parameters as a Markdown table (docs/ros2.md holds this; a test compares them)."""

    def cell(value: ParamValue) -> str:
        if isinstance(value, bool):
            return f"`{str(value).lower()}`"
        if isinstance(value, tuple):
            return "`[" + ", ".join(value) + "]`"
        if isinstance(value, str):
            return f'`"{value}"`'
        if isinstance(value, float):
            return f"`{value:.1f}`" if value.is_integer() else f"`{value:.6g}`"
        return f"`{value}`"

    lines = [
        "| parameter | default | range / choices | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for spec in parameter_specs():
        description = spec.description.replace("|", "\\|")
        lines.append(
            f"| `{spec.name}` | {cell(spec.default)} | {spec.constraints} | {description} |"
        )
    return "\n".join(lines) + "\n"


def _type_name(default: ParamValue) -> str:
    if isinstance(default, bool):
        return "a bool (true or false)"
    if isinstance(default, int):
        return "an integer"
    if isinstance(default, float):
        return "a double (with a decimal point: 3.0, not 3)"
    if isinstance(default, str):
        return "a string"
    return "a list of strings, e.g. [cpu]"


def checked_value(spec: ParamSpec, value: Any) -> Any:
    """The declared value of ``spec`` if it has the spec's type; StartupError naming it if not.

    rclpy gives a parameter overridden with an empty list (``-p name:=[]``, ``name: []`` in a
    parameter file) back with no type and the value None instead of refusing it.
    """
    default = spec.default
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, float)
    elif isinstance(default, str):
        ok = isinstance(value, str)
    else:
        items = _plain(value) if value is not None else None
        ok = isinstance(items, tuple) and all(isinstance(item, str) for item in items)
    if ok:
        return value
    got = "no value (an empty list [] sets none)" if value is None else repr(value)
    choices = f"; {spec.constraints}" if spec.constraints else ""
    raise StartupError(
        f"bad parameter {spec.name!r}: got {got}, expected {_type_name(default)}{choices} "
        f"(default {spec.ros_default!r}); fix it in the parameter file or the -p override"
    )


def _plain(value: Any) -> Any:
    """rclpy gives arrays as list or array.array; the settings want tuples and plain values."""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "array":
        return tuple(value)
    return value

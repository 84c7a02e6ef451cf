"""The on-car runtime: camera message in, safe steering command out (numpy, OpenCV, onnxruntime)."""

from __future__ import annotations

from ncp_driver.runtime.config import MANUAL_MODES, PROVIDERS, PipelineConfig
from ncp_driver.runtime.mode import AutoModeWatch
from ncp_driver.runtime.model import PROVIDER_NAMES, SteeringModel, StepOutput, provider_plan
from ncp_driver.runtime.pipeline import (
    FRAME_STATUSES,
    FrameResult,
    FrameStatus,
    SteeringPipeline,
)
from ncp_driver.runtime.stats import PipelineStats
from ncp_driver.runtime.steering import (
    LIMIT_NAMES,
    SteeringCommand,
    SteeringLimiter,
    curvature_to_steering_angle,
    steering_angle_to_curvature,
)

__all__ = [
    "FRAME_STATUSES",
    "LIMIT_NAMES",
    "MANUAL_MODES",
    "PROVIDERS",
    "PROVIDER_NAMES",
    "AutoModeWatch",
    "FrameResult",
    "FrameStatus",
    "PipelineConfig",
    "PipelineStats",
    "SteeringCommand",
    "SteeringLimiter",
    "SteeringModel",
    "SteeringPipeline",
    "StepOutput",
    "curvature_to_steering_angle",
    "provider_plan",
    "steering_angle_to_curvature",
]

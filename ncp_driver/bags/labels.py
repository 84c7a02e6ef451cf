"""The human's curvature from recorded steering: one definition for the training set and the replay.

A recorded steering angle is the front-wheel angle, as ``ackermann_msgs/AckermannDrive``
defines it; a car that records a steering-wheel angle instead (``--steering TOPIC:FIELD`` from
its own status message) says so with ``steering_wheel_ratio``, and the angle is divided by it.
The curvature is then the bicycle model's ``tan(front-wheel angle) / wheelbase``
(:mod:`ncp_driver.runtime.steering`). A frame gets the sample nearest to its record time when it
is at most ``max_skew_s`` away (:func:`nearest`), else no label.

``ncp-bag trainset`` labels its frames with this, and ``ncp-replay`` compares the model with it,
so a model is scored against the very label it was trained on. (The car's command is a
different thing: the pipeline's front-wheel angle, whatever the car records.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ncp_driver.bags.errors import BagError
from ncp_driver.bags.series import Series
from ncp_driver.runtime.steering import front_wheel_angle, steering_angle_to_curvature

__all__ = ["MAX_SKEW_S", "RecordedSteering", "human_curvature", "nearest"]

MAX_SKEW_S = 0.05  # the largest frame-to-sample time offset for a label, s


def nearest(t_src: np.ndarray, values: np.ndarray, t: np.ndarray, max_skew_s: float) -> np.ndarray:
    """``values`` of the sample nearest to each of ``t`` (NaN if none within ``max_skew_s``)."""
    t = np.asarray(t, dtype=np.float64)
    out = np.full(t.shape, np.nan)
    if t_src.size == 0:
        return out
    right = np.clip(np.searchsorted(t_src, t), 0, t_src.size - 1)
    left = np.clip(right - 1, 0, t_src.size - 1)
    pick = np.where(np.abs(t_src[left] - t) <= np.abs(t_src[right] - t), left, right)
    ok = np.abs(t_src[pick] - t) <= max_skew_s
    out[ok] = values[pick[ok]]
    return out


@dataclass(frozen=True)
class RecordedSteering:
    """How a recorded steering angle becomes the human's curvature, and how far it may be from
    a frame."""

    wheelbase_m: float
    steering_wheel_ratio: float | None = None  # None: the angle is the front-wheel angle
    max_skew_s: float = MAX_SKEW_S

    def __post_init__(self) -> None:
        if not (math.isfinite(self.wheelbase_m) and self.wheelbase_m > 0):
            raise BagError(f"wheelbase {self.wheelbase_m} m must be a finite number > 0")
        ratio = self.steering_wheel_ratio
        if ratio is not None and not (math.isfinite(ratio) and ratio > 0):
            raise BagError(f"steering-wheel ratio {ratio} must be a finite number > 0")
        if not (math.isfinite(self.max_skew_s) and self.max_skew_s >= 0):
            raise BagError(f"max skew {self.max_skew_s} s must be a finite number >= 0")

    def curvature(self, angle: np.ndarray) -> np.ndarray:
        """Curvature in 1/m (positive left) for recorded angles in rad."""
        angle = np.asarray(angle, dtype=np.float64)
        if self.steering_wheel_ratio is not None:
            angle = front_wheel_angle(angle, self.steering_wheel_ratio)
        return steering_angle_to_curvature(angle, self.wheelbase_m)

    def describe(self, topic: str) -> str:
        """The label's definition in words (the training set's ``label`` attribute)."""
        angle = (
            "steering_angle"
            if self.steering_wheel_ratio is None
            else f"steering_angle / {self.steering_wheel_ratio:g}"
        )
        return f"tan({angle}) / {self.wheelbase_m:g} m from {topic}"


def human_curvature(
    steering: Series | None, t: np.ndarray, definition: RecordedSteering
) -> np.ndarray:
    """The human's curvature at each of ``t`` (record times, s): NaN where no steering sample
    lies within ``definition.max_skew_s``, or without steering."""
    t = np.asarray(t, dtype=np.float64)
    if steering is None or len(steering) == 0:
        return np.full(t.shape, np.nan)
    curvature = definition.curvature(steering["steering_angle"])
    return nearest(steering.stamp, curvature, t, definition.max_skew_s)

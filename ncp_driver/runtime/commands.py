"""The pipeline's outputs as ROS messages: one builder for the node and the replay's MCAP copy.

Pure functions over the message classes they are given (a :class:`MessageTypes` bundle): rclpy's
generated classes on the car, rosbags' typestore classes in the replay, any classes of the same
fields in tests. Values are written as rclpy's field checks demand: ``float`` (never
``numpy.float32``), ``int`` stamps, and ``float32[]`` through the bundle's ``float32_array``.

- command (:data:`ncp_driver.topics.COMMAND`): AckermannDriveStamped, ``steering_angle`` the
  front-wheel angle in rad, stamped with the camera frame's stamp; speed, acceleration, jerk
  and ``steering_angle_velocity`` 0 ("as fast as possible"): the drive-by-wire owns the speed;
- curvature (:data:`~ncp_driver.topics.CURVATURE`), and the steering-wheel angle where a car
  asks for one (:data:`~ncp_driver.topics.STEERING_WHEEL`): std_msgs/Float32;
- neurons (:data:`~ncp_driver.topics.NEURONS`): Float32MultiArray, one dimension ``neurons``.
"""

from __future__ import annotations

import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ncp_driver import topics

__all__ = [
    "MessageTypes",
    "command_message",
    "float32_message",
    "neurons_message",
    "time_message",
]


def _array_f(values: np.ndarray) -> Any:
    """``array.array('f')``: what rclpy's ``float32[]`` fields take without a copy per value."""
    data = array.array("f")
    data.frombytes(np.ascontiguousarray(values, dtype=np.float32).tobytes())
    return data


@dataclass(frozen=True)
class MessageTypes:
    """The message classes the pipeline's outputs are built from."""

    Time: Any
    Header: Any
    AckermannDrive: Any
    AckermannDriveStamped: Any
    Float32: Any
    Float32MultiArray: Any
    MultiArrayLayout: Any
    MultiArrayDimension: Any
    float32_array: Callable[[np.ndarray], Any] = _array_f

    @classmethod
    def from_store(cls, store: Any) -> MessageTypes:
        """The classes of a rosbags typestore (``float32[]`` as numpy arrays, as it serialises)."""
        types = store.types
        return cls(
            Time=types["builtin_interfaces/msg/Time"],
            Header=types["std_msgs/msg/Header"],
            AckermannDrive=types[topics.ACKERMANN],
            AckermannDriveStamped=types[topics.ACKERMANN_STAMPED],
            Float32=types[topics.FLOAT32],
            Float32MultiArray=types[topics.FLOAT32_ARRAY],
            MultiArrayLayout=types["std_msgs/msg/MultiArrayLayout"],
            MultiArrayDimension=types["std_msgs/msg/MultiArrayDimension"],
            float32_array=lambda values: np.asarray(values, dtype=np.float32).reshape(-1),
        )


def time_message(types: MessageTypes, sec: int, nanosec: int) -> Any:
    """A builtin_interfaces/Time."""
    return types.Time(sec=int(sec), nanosec=int(nanosec))


def command_message(
    types: MessageTypes,
    steering_angle: float,
    sec: int,
    nanosec: int,
    frame_id: str = topics.COMMAND_FRAME_ID,
) -> Any:
    """AckermannDriveStamped commanding the front-wheel angle ``steering_angle`` (rad), stamped
    ``sec``/``nanosec`` (the camera frame's stamp)."""
    return types.AckermannDriveStamped(
        header=types.Header(stamp=time_message(types, sec, nanosec), frame_id=frame_id),
        drive=types.AckermannDrive(
            steering_angle=float(steering_angle),
            steering_angle_velocity=0.0,
            speed=0.0,
            acceleration=0.0,
            jerk=0.0,
        ),
    )


def float32_message(types: MessageTypes, value: float) -> Any:
    """std_msgs/Float32 (the commanded curvature in 1/m; a steering-wheel angle in rad)."""
    return types.Float32(data=float(value))


def neurons_message(types: MessageTypes, neurons: np.ndarray, label: str = "neurons") -> Any:
    """std_msgs/Float32MultiArray with the neuron potentials, one dimension named ``label``."""
    flat = np.ascontiguousarray(neurons, dtype=np.float32).reshape(-1)
    size = int(flat.size)
    return types.Float32MultiArray(
        layout=types.MultiArrayLayout(
            dim=[types.MultiArrayDimension(label=label, size=size, stride=size)], data_offset=0
        ),
        data=types.float32_array(flat),
    )

"""Pipeline results to ROS messages: pure functions over the message classes they are given.

The classes come in a :class:`MessageTypes` bundle, so these functions run with rclpy's
generated classes on the car and with any classes of the same fields in tests. Values are
written as rclpy's field checks demand: ``float`` (never ``numpy.float32``), ``int`` stamps,
``array.array('f')`` for ``float32[]``, the class's own constants for diagnostic levels.
"""

from __future__ import annotations

import array
from dataclasses import dataclass
from typing import Any

import numpy as np

from ncp_driver.runtime import SteeringCommand
from ncp_driver_ros.monitor import HealthReport, Level

__all__ = [
    "MessageTypes",
    "command_message",
    "curvature_message",
    "diagnostics_message",
    "neurons_message",
    "time_message",
]


@dataclass(frozen=True)
class MessageTypes:
    """The message classes the node publishes (rclpy's on the car)."""

    Time: Any
    Header: Any
    AckermannDrive: Any
    AckermannDriveStamped: Any
    Float32: Any
    Float32MultiArray: Any
    MultiArrayLayout: Any
    MultiArrayDimension: Any
    DiagnosticArray: Any
    DiagnosticStatus: Any
    KeyValue: Any

    @classmethod
    def from_ros(cls) -> MessageTypes:
        """Import the classes from the ROS 2 message packages."""
        from ackermann_msgs.msg import AckermannDrive, AckermannDriveStamped
        from builtin_interfaces.msg import Time
        from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
        from std_msgs.msg import (
            Float32,
            Float32MultiArray,
            Header,
            MultiArrayDimension,
            MultiArrayLayout,
        )

        return cls(
            Time=Time,
            Header=Header,
            AckermannDrive=AckermannDrive,
            AckermannDriveStamped=AckermannDriveStamped,
            Float32=Float32,
            Float32MultiArray=Float32MultiArray,
            MultiArrayLayout=MultiArrayLayout,
            MultiArrayDimension=MultiArrayDimension,
            DiagnosticArray=DiagnosticArray,
            DiagnosticStatus=DiagnosticStatus,
            KeyValue=KeyValue,
        )


def time_message(types: MessageTypes, sec: int, nanosec: int) -> Any:
    """A builtin_interfaces/Time."""
    return types.Time(sec=int(sec), nanosec=int(nanosec))


def command_message(
    types: MessageTypes, command: SteeringCommand, stamp: Any, frame_id: str
) -> Any:
    """AckermannDriveStamped for ``command``, stamped with ``stamp`` (the camera frame's Time).

    Only the steering is commanded: speed, acceleration and jerk are 0 and
    steering_angle_velocity 0 ("as fast as possible"); the drive-by-wire owns the speed.
    """
    return types.AckermannDriveStamped(
        header=types.Header(stamp=time_message(types, stamp.sec, stamp.nanosec), frame_id=frame_id),
        drive=types.AckermannDrive(
            steering_angle=float(command.steering_angle),
            steering_angle_velocity=0.0,
            speed=0.0,
            acceleration=0.0,
            jerk=0.0,
        ),
    )


def curvature_message(types: MessageTypes, command: SteeringCommand) -> Any:
    """std_msgs/Float32 with the commanded curvature (1/m, after limits)."""
    return types.Float32(data=float(command.curvature))


def neurons_message(types: MessageTypes, neurons: np.ndarray, label: str = "neurons") -> Any:
    """std_msgs/Float32MultiArray with the neuron potentials, one dimension named ``label``."""
    flat = np.ascontiguousarray(neurons, dtype=np.float32).reshape(-1)
    data = array.array("f")
    data.frombytes(flat.tobytes())
    size = int(flat.size)
    return types.Float32MultiArray(
        layout=types.MultiArrayLayout(
            dim=[types.MultiArrayDimension(label=label, size=size, stride=size)], data_offset=0
        ),
        data=data,
    )


def diagnostics_message(types: MessageTypes, report: HealthReport, stamp: Any) -> Any:
    """diagnostic_msgs/DiagnosticArray with one status built from ``report``."""
    levels = {
        Level.OK: types.DiagnosticStatus.OK,
        Level.WARN: types.DiagnosticStatus.WARN,
        Level.ERROR: types.DiagnosticStatus.ERROR,
        Level.STALE: types.DiagnosticStatus.STALE,
    }
    status = types.DiagnosticStatus(
        level=levels[report.level],
        name=report.name,
        message=report.message,
        hardware_id=report.hardware_id,
        values=[types.KeyValue(key=key, value=value) for key, value in report.values],
    )
    return types.DiagnosticArray(
        header=types.Header(stamp=time_message(types, stamp.sec, stamp.nanosec), frame_id=""),
        status=[status],
    )

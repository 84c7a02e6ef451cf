"""Pipeline results to ROS messages with rclpy's classes; the builders are the core's.

The command, curvature, steering-wheel and neuron messages come from
:mod:`ncp_driver.runtime.commands` (the replay's MCAP copy uses the same functions); only the
diagnostics message, which reports the node's own health, is built here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ncp_driver.runtime.commands import MessageTypes, time_message
from ncp_driver_ros.monitor import HealthReport, Level

__all__ = ["DiagnosticTypes", "diagnostics_message", "ros_message_types"]


def ros_message_types() -> MessageTypes:
    """The command, curvature and neuron message classes from the ROS 2 message packages."""
    from ackermann_msgs.msg import AckermannDrive, AckermannDriveStamped
    from builtin_interfaces.msg import Time
    from std_msgs.msg import (
        Float32,
        Float32MultiArray,
        Header,
        MultiArrayDimension,
        MultiArrayLayout,
    )

    return MessageTypes(
        Time=Time,
        Header=Header,
        AckermannDrive=AckermannDrive,
        AckermannDriveStamped=AckermannDriveStamped,
        Float32=Float32,
        Float32MultiArray=Float32MultiArray,
        MultiArrayLayout=MultiArrayLayout,
        MultiArrayDimension=MultiArrayDimension,
    )


@dataclass(frozen=True)
class DiagnosticTypes:
    """The diagnostics message classes (rclpy's on the car)."""

    DiagnosticArray: Any
    DiagnosticStatus: Any
    KeyValue: Any

    @classmethod
    def from_ros(cls) -> DiagnosticTypes:
        from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

        return cls(DiagnosticArray, DiagnosticStatus, KeyValue)


def diagnostics_message(
    types: MessageTypes, diagnostics: DiagnosticTypes, report: HealthReport, stamp: Any
) -> Any:
    """diagnostic_msgs/DiagnosticArray with one status built from ``report``."""
    levels = {
        Level.OK: diagnostics.DiagnosticStatus.OK,
        Level.WARN: diagnostics.DiagnosticStatus.WARN,
        Level.ERROR: diagnostics.DiagnosticStatus.ERROR,
        Level.STALE: diagnostics.DiagnosticStatus.STALE,
    }
    status = diagnostics.DiagnosticStatus(
        level=levels[report.level],
        name=report.name,
        message=report.message,
        hardware_id=report.hardware_id,
        values=[diagnostics.KeyValue(key=key, value=value) for key, value in report.values],
    )
    return diagnostics.DiagnosticArray(
        header=types.Header(stamp=time_message(types, stamp.sec, stamp.nanosec), frame_id=""),
        status=[status],
    )

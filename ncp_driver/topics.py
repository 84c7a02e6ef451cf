"""Topic names and message types: one definition for the node, the bag tools and the generator.

Names are relative (no leading slash) so that a ROS 2 namespace applies to them; a bag stores
the absolute form, which :func:`absolute` gives.
"""

from __future__ import annotations

__all__ = [
    "AUTO_MODE",
    "CAMERA_COMPRESSED",
    "CAMERA_RAW",
    "COMMAND",
    "CURVATURE",
    "DIAGNOSTICS",
    "GPS",
    "HUMAN_STEERING",
    "NEURONS",
    "ODOMETRY",
    "TYPES",
    "absolute",
]

# Inputs (what the car records and the node subscribes to).
CAMERA_RAW = "camera/image_raw"  # sensor_msgs/msg/Image
CAMERA_COMPRESSED = "camera/image_raw/compressed"  # sensor_msgs/msg/CompressedImage
AUTO_MODE = "vehicle/autonomous"  # std_msgs/msg/Bool, True while the car drives itself
GPS = "gps/fix"  # sensor_msgs/msg/NavSatFix
HUMAN_STEERING = "vehicle/steering"  # ackermann_msgs/msg/AckermannDriveStamped, what the car did
ODOMETRY = "odom"  # nav_msgs/msg/Odometry, the vehicle's motion (simulated drives: the true state)

# Outputs (what the node publishes and the replay writes).
COMMAND = "ncp/steering_cmd"  # ackermann_msgs/msg/AckermannDriveStamped
CURVATURE = "ncp/curvature"  # std_msgs/msg/Float32, 1/m
NEURONS = "ncp/neurons"  # std_msgs/msg/Float32MultiArray
DIAGNOSTICS = "/diagnostics"  # diagnostic_msgs/msg/DiagnosticArray (absolute by ROS convention)

TYPES: dict[str, str] = {
    CAMERA_RAW: "sensor_msgs/msg/Image",
    CAMERA_COMPRESSED: "sensor_msgs/msg/CompressedImage",
    AUTO_MODE: "std_msgs/msg/Bool",
    GPS: "sensor_msgs/msg/NavSatFix",
    HUMAN_STEERING: "ackermann_msgs/msg/AckermannDriveStamped",
    ODOMETRY: "nav_msgs/msg/Odometry",
    COMMAND: "ackermann_msgs/msg/AckermannDriveStamped",
    CURVATURE: "std_msgs/msg/Float32",
    NEURONS: "std_msgs/msg/Float32MultiArray",
    DIAGNOSTICS: "diagnostic_msgs/msg/DiagnosticArray",
}


def absolute(name: str) -> str:
    """The absolute topic name as a bag stores it (``camera/image_raw`` -> ``/camera/image_raw``)."""
    return name if name.startswith("/") else "/" + name

"""Topic names and message types: one definition for the node, the bag tools and the generator.

Names are relative (no leading slash) so that a ROS 2 namespace applies to them; a bag stores
the absolute form, which :func:`absolute` gives.
"""

from __future__ import annotations

__all__ = [
    "ACKERMANN",
    "ACKERMANN_STAMPED",
    "AUTO_MODE",
    "BOOL",
    "CAMERA_COMPRESSED",
    "CAMERA_RAW",
    "COMMAND",
    "COMMAND_FRAME_ID",
    "COMPRESSED_IMAGE",
    "CURVATURE",
    "DIAGNOSTICS",
    "DIAGNOSTIC_ARRAY",
    "FLOAT32",
    "FLOAT32_ARRAY",
    "GPS",
    "HUMAN_STEERING",
    "IMAGE",
    "IMU",
    "NAVSATFIX",
    "NEURONS",
    "ODOMETRY",
    "STEERING_WHEEL",
    "TYPES",
    "VEHICLE_ODOMETRY",
    "absolute",
]

# Message types (ROS 2 names).
IMAGE = "sensor_msgs/msg/Image"
COMPRESSED_IMAGE = "sensor_msgs/msg/CompressedImage"
NAVSATFIX = "sensor_msgs/msg/NavSatFix"
IMU = "sensor_msgs/msg/Imu"
BOOL = "std_msgs/msg/Bool"
FLOAT32 = "std_msgs/msg/Float32"
FLOAT32_ARRAY = "std_msgs/msg/Float32MultiArray"
ACKERMANN = "ackermann_msgs/msg/AckermannDrive"
ACKERMANN_STAMPED = "ackermann_msgs/msg/AckermannDriveStamped"
ODOMETRY = "nav_msgs/msg/Odometry"
DIAGNOSTIC_ARRAY = "diagnostic_msgs/msg/DiagnosticArray"

# Inputs (what the car records and the node subscribes to).
CAMERA_RAW = "camera/image_raw"  # sensor_msgs/msg/Image
CAMERA_COMPRESSED = "camera/image_raw/compressed"  # sensor_msgs/msg/CompressedImage
AUTO_MODE = "vehicle/autonomous"  # std_msgs/msg/Bool, True while the car drives itself
GPS = "gps/fix"  # sensor_msgs/msg/NavSatFix
HUMAN_STEERING = "vehicle/steering"  # ackermann_msgs/msg/AckermannDriveStamped, what the car did
VEHICLE_ODOMETRY = "odom"  # nav_msgs/msg/Odometry, the vehicle's motion (ncp-sim: the true state)

# Outputs (what the node publishes and the replay writes).
COMMAND = "ncp/steering_cmd"  # ackermann_msgs/msg/AckermannDriveStamped
CURVATURE = "ncp/curvature"  # std_msgs/msg/Float32, 1/m
NEURONS = "ncp/neurons"  # std_msgs/msg/Float32MultiArray
DIAGNOSTICS = "/diagnostics"  # diagnostic_msgs/msg/DiagnosticArray (absolute by ROS convention)
STEERING_WHEEL = "ncp/steering_wheel_angle"  # std_msgs/msg/Float32, rad (only if asked for)
COMMAND_FRAME_ID = "base_link"  # header.frame_id of the commands (the node's frame_id default)

TYPES: dict[str, str] = {
    CAMERA_RAW: IMAGE,
    CAMERA_COMPRESSED: COMPRESSED_IMAGE,
    AUTO_MODE: BOOL,
    GPS: NAVSATFIX,
    HUMAN_STEERING: ACKERMANN_STAMPED,
    VEHICLE_ODOMETRY: ODOMETRY,
    COMMAND: ACKERMANN_STAMPED,
    CURVATURE: FLOAT32,
    NEURONS: FLOAT32_ARRAY,
    DIAGNOSTICS: DIAGNOSTIC_ARRAY,
    STEERING_WHEEL: FLOAT32,
}


def absolute(name: str) -> str:
    """The absolute topic name as a bag stores it (``camera/image_raw`` -> ``/camera/image_raw``)."""
    return name if name.startswith("/") else "/" + name

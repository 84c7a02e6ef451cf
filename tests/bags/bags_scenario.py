"""A known drive written as a real bag (ROS 1, ROS 2 sqlite3 or MCAP) for the bag-tool tests.

60 s from T0. The car drives a left circle of radius 50 m at 10 m/s (yaw rate 0.2 rad/s, lateral
acceleration 2 m/s^2) and stands still from 57 s. Topics (record times on exact 0.1 s grids):

- ``/camera/image_raw`` Image rgb8 40 x 30 at 2 Hz (120 frames); frame k: R = k, G = 4x, B = 4y;
  header stamp = record time - 10 ms.
- ``/gps/fix`` NavSatFix at 10 Hz: the circle around (42.0, -71.0), altitude 100 + k/100,
  status 0 (fix), service 1, covariance diag(k, 2k, 3k), type 2.
- ``/vehicle/autonomous`` Bool at 10 Hz: manual 0-5 s, auto 5-20, manual 20-25, auto 25-40 (with
  a 0.2 s manual flicker at 30 s, debounced away), manual 40-45, auto 45-55, manual from 55.
  Takeovers at 20, 40, 55 s; autonomous 40 s.
- ``/vehicle/steering`` AckermannDriveStamped at 20 Hz: angle atan(0.05) (wheelbase 2.5 m gives
  curvature 0.02 1/m), speed 10 (0 from 57 s).
- ``/odom`` Odometry at 20 Hz: twist.linear.x 10, twist.angular.z 0.2 (both 0 from 57 s).
- ``/imu`` Imu at 50 Hz: angular_velocity.z 0.2, linear_acceleration (0, 2, 9.81)
  ((0, 0, 9.81) from 57 s).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ncp_driver.bags.writer import BagWriter
from ncp_driver.geo import from_local_m

T0_NS = 1_700_000_000 * 1_000_000_000
DURATION_S = 60.0
RADIUS = 50.0
SPEED = 10.0
YAW_RATE = SPEED / RADIUS
STOP_S = 57.0
ORIGIN = (42.0, -71.0)
WHEELBASE = 2.5
STEERING_ANGLE = math.atan(WHEELBASE / RADIUS)
FRAME_W, FRAME_H = 40, 30
TAKEOVERS_S = (20.0, 40.0, 55.0)
AUTONOMOUS_S = 40.0
AUTO_STEPS = 397  # GPS steps with both ends autonomous: 149 + 149 + 99
CHORD_M = 2 * RADIUS * math.sin(SPEED * 0.1 / (2 * RADIUS))

CAMERA = "/camera/image_raw"
GPS = "/gps/fix"
AUTO = "/vehicle/autonomous"
STEERING = "/vehicle/steering"
ODOM = "/odom"
IMU = "/imu"


def ns(t: float) -> int:
    """Record time of ``t`` seconds after T0, rounded to the exact ns grid."""
    return T0_NS + round(t * 1e9)


def local_position(t: float) -> tuple[float, float]:
    """(east, north) in metres at ``t`` s: the circle, then standing still."""
    t = min(t, STOP_S)
    angle = YAW_RATE * t
    return RADIUS * math.sin(angle), RADIUS * (1 - math.cos(angle))


def latlon(t: float) -> tuple[float, float]:
    east, north = local_position(t)
    lat, lon = from_local_m(np.array([east]), np.array([north]), ORIGIN)
    return float(lat[0]), float(lon[0])


def autonomous(t: float) -> bool:
    if 30.0 <= t < 30.2:
        return False
    return 5.0 <= t < 20.0 or 25.0 <= t < 40.0 or 45.0 <= t < 55.0


def frame_pixels(k: int) -> np.ndarray:
    """Frame ``k`` as H x W x 3 RGB uint8."""
    y, x = np.mgrid[0:FRAME_H, 0:FRAME_W]
    return np.stack([np.full((FRAME_H, FRAME_W), k % 256), 4 * x, 4 * y], axis=-1).astype(np.uint8)


def header(writer: BagWriter, stamp_ns: int, frame_id: str = "base") -> dict[str, object]:
    sec, nsec = divmod(stamp_ns, 1_000_000_000)
    fields: dict[str, object] = {"stamp": {"sec": sec, "nanosec": nsec}, "frame_id": frame_id}
    if writer.fmt == "rosbag1":
        fields["seq"] = 0
    return fields


def gps_values(k: int) -> dict[str, float]:
    lat, lon = latlon(k * 0.1)
    return {"latitude": lat, "longitude": lon, "altitude": 100.0 + k / 100}


def write_scenario(
    path: Path, fmt: str, compression: str | None = None, with_camera: bool = True
) -> Path:
    """Write the scenario to ``path`` (``.bag`` for rosbag1, a folder otherwise)."""
    messages: list[tuple[int, int, str, str, object]] = []
    with BagWriter(path, fmt, compression=compression) as w:
        T = w.typestore.types

        def add(t: float, order: int, topic: str, msgtype: str, message: object) -> None:
            messages.append((ns(t), order, topic, msgtype, message))

        if with_camera:
            for k in range(120):
                t = k * 0.5
                pixels = frame_pixels(k)
                msg = w.message(
                    "sensor_msgs/msg/Image",
                    header=header(w, ns(t) - 10_000_000, "camera"),
                    height=FRAME_H,
                    width=FRAME_W,
                    encoding="rgb8",
                    step=FRAME_W * 3,
                    data=pixels.reshape(-1),
                )
                add(t, 0, CAMERA, "sensor_msgs/msg/Image", msg)
        for k in range(600):
            t = k * 0.1
            cov = np.zeros(9)
            cov[0], cov[4], cov[8] = k, 2 * k, 3 * k
            fix = w.message(
                "sensor_msgs/msg/NavSatFix",
                header=header(w, ns(t), "gps"),
                status={"status": 0, "service": 1},
                position_covariance=cov,
                position_covariance_type=2,
                **gps_values(k),
            )
            add(t, 1, GPS, "sensor_msgs/msg/NavSatFix", fix)
            add(t, 2, AUTO, "std_msgs/msg/Bool", T["std_msgs/msg/Bool"](data=autonomous(t)))
        for k in range(1200):
            t = k * 0.05
            moving = t < STOP_S
            steer = w.message(
                "ackermann_msgs/msg/AckermannDriveStamped",
                header=header(w, ns(t)),
                drive={"steering_angle": STEERING_ANGLE, "speed": SPEED if moving else 0.0},
            )
            add(t, 3, STEERING, "ackermann_msgs/msg/AckermannDriveStamped", steer)
            odom = w.message(
                "nav_msgs/msg/Odometry",
                header=header(w, ns(t), "odom"),
                child_frame_id="base",
                twist={
                    "twist": {
                        "linear": {"x": SPEED if moving else 0.0},
                        "angular": {"z": YAW_RATE if moving else 0.0},
                    }
                },
            )
            add(t, 4, ODOM, "nav_msgs/msg/Odometry", odom)
        for k in range(3000):
            t = k * 0.02
            moving = t < STOP_S
            imu = w.message(
                "sensor_msgs/msg/Imu",
                header=header(w, ns(t), "imu"),
                orientation={"w": 1.0},
                angular_velocity={"z": YAW_RATE if moving else 0.0},
                linear_acceleration={"y": SPEED * YAW_RATE if moving else 0.0, "z": 9.81},
            )
            add(t, 5, IMU, "sensor_msgs/msg/Imu", imu)
        messages.sort(key=lambda m: (m[0], m[1]))
        for stamp, _, topic, msgtype, message in messages:
            w.write(topic, msgtype, stamp, message)
    return path

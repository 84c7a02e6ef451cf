"""A real rclpy peer for the driver node: camera, car and listener, plus the driver's process.

Frames are published as serialized bytes (``publish(bytes)``) built once per size, with the
stamp written into the CDR header each time: the peer's own cost per 7 MB frame stays a copy.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import rclpy
from ackermann_msgs.msg import AckermannDriveStamped
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from rclpy.serialization import serialize_message
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Bool, Header
from std_srvs.srv import Trigger

REPO = Path(__file__).resolve().parents[2]
ROS_PACKAGE = REPO / "ros2_ws" / "src" / "ncp_driver_ros"
MODEL = ROS_PACKAGE / "test" / "tiny_steering.onnx"
LAUNCH_FILE = REPO / "launch" / "driver.launch.py"
FULL = (1208, 1920)
SMALL = (48, 64)
PERIOD = 1.0 / 30.0


def launch_module() -> Any:
    """launch/driver.launch.py's plain-Python helpers (``dds_settings``)."""
    spec = importlib.util.spec_from_file_location("ncp_driver_launch_driver", LAUNCH_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def profile_variables(env: Mapping[str, str]) -> dict[str, str]:
    """What ``dds_profile:=large_images`` sets in ``env`` (the launch file's own code)."""
    return dict(launch_module().dds_settings(env, "large_images", LAUNCH_FILE).variables)


def driver_env() -> dict[str, str]:
    """The test's environment (tests/ros2/test_ros2_real.py already applied the large-image
    profile to it, for the peer's camera too) plus the node package on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = f"{ROS_PACKAGE}{os.pathsep}{env.get('PYTHONPATH', '')}"
    env.update(profile_variables(env))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_driver(
    *params: str, transport: str = "raw", name: str = "ncp_driver"
) -> subprocess.Popen[str]:
    """``python -m ncp_driver_ros.entry`` (what ``ros2 run`` starts) named ``name``, with the tiny model and ``-p``
    overrides."""
    args = [
        f"model_path:={MODEL}", "warmup_runs:=1", "diagnostics_period_s:=0.25",
        "auto_mode_timeout_s:=0.5", f"camera_transport:={transport}", *params,
    ]  # fmt: skip
    command = [sys.executable, "-m", "ncp_driver_ros.entry", "--ros-args", "-r"]
    command.append(f"__node:={name}")
    for arg in args:
        command += ["-p", arg]
    return subprocess.Popen(
        command, env=driver_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def minor_faults(pid: int) -> int:
    """A process's minor page faults so far (/proc/PID/stat, field 10)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[7])


def stop(process: subprocess.Popen[str], timeout: float = 15.0) -> tuple[int, str]:
    """SIGINT (Ctrl-C), then the exit code and everything it printed."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        return -9, output
    return process.returncode, output


def raw_frame(height: int, width: int, level: int = 100) -> bytearray:
    """CDR bytes of an rgb8 Image (stamp written later by :func:`stamped`)."""
    ramp = np.linspace(0, 60, width, dtype=np.float32)[None, :, None]
    pixels = np.broadcast_to(level + ramp, (height, width, 3)).astype(np.uint8)
    msg = Image(
        header=Header(frame_id="camera"), height=height, width=width, encoding="rgb8",
        is_bigendian=0, step=width * 3, data=pixels.tobytes(),
    )  # fmt: skip
    return bytearray(serialize_message(msg))


def jpeg_frame(height: int = 480, width: int = 640) -> bytearray:
    ok, data = cv2.imencode(".jpg", np.full((height, width, 3), 110, np.uint8))
    assert ok
    msg = CompressedImage(
        header=Header(frame_id="camera"), format="rgb8; jpeg compressed bgr8", data=data.tobytes()
    )
    return bytearray(serialize_message(msg))


def stamped(frame: bytearray, stamp_ns: int) -> bytes:
    """The frame with header.stamp = ``stamp_ns`` (little-endian CDR: sec, nanosec at 4..12)."""
    sec, nanosec = divmod(stamp_ns, 1_000_000_000)
    struct.pack_into("<iI", frame, 4, sec, nanosec)
    return bytes(frame)


class Peer:
    """The test's node: camera and auto-flag publishers, command and diagnostics listeners."""

    def __init__(self, name: str = "ncp_driver_real_test") -> None:
        if not rclpy.ok():
            rclpy.init()
        self.node = Node(name)
        self.commands: list[Any] = []
        self.diagnostics: list[Any] = []
        self.node.create_subscription(
            AckermannDriveStamped, "ncp/steering_cmd", self.commands.append, 100
        )
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, 100)
        self.camera = self.node.create_publisher(Image, "camera/image_raw", qos_profile_sensor_data)
        self.compressed = self.node.create_publisher(
            CompressedImage, "camera/image_raw/compressed", qos_profile_sensor_data
        )
        self.auto = self.node.create_publisher(Bool, "vehicle/autonomous", 10)
        self.reset = self.node.create_client(Trigger, "ncp_driver/reset_state")

    def _on_diagnostics(self, msg: Any) -> None:
        self.diagnostics += [s for s in msg.status if s.name == "ncp_driver: steering"]

    def close(self) -> None:
        self.node.destroy_node()

    def now_ns(self) -> int:
        return int(self.node.get_clock().now().nanoseconds)

    def spin_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while True:
            rclpy.spin_once(self.node, timeout_sec=max(0.0, min(0.01, end - time.monotonic())))
            if time.monotonic() >= end:
                return

    def spin_until(self, condition: Callable[[], bool], timeout: float = 30.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            rclpy.spin_once(self.node, timeout_sec=0.01)
            if condition():
                return True
        return False

    def wait_for_driver(
        self, process: subprocess.Popen[str], compressed: bool = False, name: str = "ncp_driver"
    ) -> None:
        """Until the driver named ``name`` offers its reset service and reads the camera."""
        camera = self.compressed if compressed else self.camera
        reset = (
            self.reset
            if name == "ncp_driver"
            else self.node.create_client(Trigger, f"{name}/reset_state")
        )
        up = self.spin_until(
            lambda: (
                process.poll() is not None
                or (camera.get_subscription_count() > 0 and reset.service_is_ready())
            ),
            timeout=60.0,
        )
        assert up and process.poll() is None, "the driver did not come up"

    def drive(
        self,
        frame: bytearray,
        count: int,
        auto: bool | None = True,
        compressed: bool = False,
    ) -> list[int]:
        """``count`` frames at 30 Hz (the auto flag with each, unless None); their stamps."""
        publisher = self.compressed if compressed else self.camera
        stamps = []
        next_at = time.monotonic()
        for _ in range(count):
            if auto is not None:
                self.auto.publish(Bool(data=auto))
            stamp = self.now_ns()
            publisher.publish(stamped(frame, stamp))
            stamps.append(stamp)
            next_at += PERIOD
            self.spin_for(max(0.0, next_at - time.monotonic()))
        return stamps

    def command_stamps(self) -> list[int]:
        return [c.header.stamp.sec * 1_000_000_000 + c.header.stamp.nanosec for c in self.commands]

    def call_reset(self) -> Any:
        future = self.reset.call_async(Trigger.Request())
        rclpy.spin_until_future_complete(self.node, future, timeout_sec=30.0)
        return future.result()


def value(status: Any, key: str) -> str:
    for kv in status.values:
        if kv.key == key:
            return str(kv.value)
    raise KeyError(key)

"""Integration test on a real ROS 2: the driver node under launch_testing with a tiny model.

Run it in a sourced ROS 2 workspace (Humble or Jazzy) with the ncp_driver core pip-installed::

    colcon build --packages-select ncp_driver_ros
    colcon test --packages-select ncp_driver_ros --event-handlers console_direct+
    colcon test-result --verbose

launch_testing's pytest plugin runs ``generate_test_description`` (the driver process), then the
tests below talk to it over DDS: frames in, commands out with the frames' stamps, neurons,
diagnostics, the reset service, and exit code 0 when launch shuts it down. Without ROS 2 (no
launch_testing, no rclpy: no package registry has them) pytest reports the module as skipped.

``tiny_steering.onnx`` beside this file is tests/ros2/ros2_tiny_model.py's model (checked there).
"""

from __future__ import annotations

import array
import time
import unittest
from pathlib import Path

import pytest

_REASON = (
    "needs a ROS 2 installation (launch_testing, rclpy, message packages): run it with "
    "`colcon test --packages-select ncp_driver_ros` in a sourced ROS 2 workspace"
)
pytest.importorskip("launch_testing", reason=_REASON)
pytest.importorskip("rclpy", reason=_REASON)

import launch_ros.actions  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
import numpy as np  # noqa: E402
import rclpy  # noqa: E402
from ackermann_msgs.msg import AckermannDriveStamped  # noqa: E402
from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from rclpy.qos import qos_profile_sensor_data  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from std_msgs.msg import Bool, Float32MultiArray, Header  # noqa: E402
from std_srvs.srv import Trigger  # noqa: E402

import launch  # noqa: E402

MODEL = Path(__file__).with_name("tiny_steering.onnx")
TIMEOUT_S = 30.0
HEIGHT, WIDTH = 48, 64


@pytest.mark.rostest
def generate_test_description():  # type: ignore[no-untyped-def]
    driver = launch_ros.actions.Node(
        package="ncp_driver_ros",
        executable="driver",
        name="ncp_driver",
        parameters=[{"model_path": str(MODEL), "warmup_runs": 1}],
        output="screen",
    )
    return (
        launch.LaunchDescription([driver, launch_testing.actions.ReadyToTest()]),
        {"driver": driver},
    )


def _frame(node, level: float) -> Image:  # type: ignore[no-untyped-def]
    """An rgb8 frame stamped now, brightness ``level``."""
    pixels = np.full((HEIGHT, WIDTH, 3), int(level * 255), dtype=np.uint8)
    return Image(
        header=Header(stamp=node.get_clock().now().to_msg(), frame_id="camera"),
        height=HEIGHT,
        width=WIDTH,
        encoding="rgb8",
        is_bigendian=0,
        step=WIDTH * 3,
        data=array.array("B", pixels.tobytes()),
    )


class TestDriverOnRos2(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        rclpy.init()
        cls.node = rclpy.create_node("ncp_driver_launch_test")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.node.destroy_node()
        rclpy.shutdown()

    def _spin_until(self, condition, timeout: float = TIMEOUT_S) -> bool:  # type: ignore[no-untyped-def]
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            rclpy.spin_once(self.node, timeout_sec=0.02)
            if condition():
                return True
        return False

    def test_frames_in_commands_out(self) -> None:
        node = self.node
        commands: list = []
        neurons: list = []
        diagnostics: list = []
        node.create_subscription(AckermannDriveStamped, "ncp/steering_cmd", commands.append, 10)
        node.create_subscription(Float32MultiArray, "ncp/neurons", neurons.append, 10)
        node.create_subscription(DiagnosticArray, "/diagnostics", diagnostics.append, 10)
        camera = node.create_publisher(Image, "camera/image_raw", qos_profile_sensor_data)
        auto = node.create_publisher(Bool, "vehicle/autonomous", 10)
        self.assertTrue(
            self._spin_until(
                lambda: camera.get_subscription_count() > 0 and auto.get_subscription_count() > 0
            ),
            "the driver never subscribed to the camera and the auto-mode flag",
        )
        auto.publish(Bool(data=True))
        sent: set[tuple[int, int]] = set()
        end = time.monotonic() + TIMEOUT_S
        while len(commands) < 10 and time.monotonic() < end:
            auto.publish(Bool(data=True))  # the flag repeats (auto_mode_timeout_s)
            msg = _frame(node, level=0.4 + 0.1 * (len(sent) % 3))
            camera.publish(msg)
            sent.add((msg.header.stamp.sec, msg.header.stamp.nanosec))
            self._spin_until(lambda: False, timeout=1.0 / 30.0)
        self.assertGreaterEqual(len(commands), 10, "too few steering commands came back")
        stamps = [(c.header.stamp.sec, c.header.stamp.nanosec) for c in commands]
        self.assertTrue(set(stamps) <= sent, "a command carries a stamp no frame had")
        self.assertEqual(stamps, sorted(stamps))
        self.assertTrue(all(np.isfinite(c.drive.steering_angle) for c in commands))
        self.assertTrue(neurons and len(neurons[-1].data) == 19)
        self.assertTrue(
            self._spin_until(
                lambda: any(
                    s.name == "ncp_driver: steering" for a in diagnostics for s in a.status
                ),
                timeout=5.0,
            ),
            "no diagnostics from the driver",
        )

    def test_reset_service(self) -> None:
        client = self.node.create_client(Trigger, "ncp_driver/reset_state")
        self.assertTrue(client.wait_for_service(timeout_sec=TIMEOUT_S))
        future = client.call_async(Trigger.Request())
        rclpy.spin_until_future_complete(self.node, future, timeout_sec=TIMEOUT_S)
        self.assertIsNotNone(future.result())
        self.assertTrue(future.result().success)


@launch_testing.post_shutdown_test()
class TestDriverShutdown(unittest.TestCase):
    def test_exit_code_is_zero_on_launch_shutdown(self, proc_info, driver) -> None:  # type: ignore[no-untyped-def]
        launch_testing.asserts.assertExitCodes(proc_info, process=driver)

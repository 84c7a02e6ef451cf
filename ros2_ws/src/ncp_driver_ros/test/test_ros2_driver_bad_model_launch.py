"""Integration test on a real ROS 2: a model that does not load stops the node with the reason.

Runs under ``colcon test`` in a sourced ROS 2 workspace; skipped without ROS 2 (see
test_ros2_driver_launch.py).

The driver exits at once, so it could exit before the active tests started or finished; launch
then went idle and stopped ("Launch stopped before the active tests finished", 3 of 21 runs).
``KeepAliveProc`` keeps the launch up until the tests are done. The race is made certain here
(the active test goes on for a second after the driver has exited), so the test fails every
time without the keep-alive process.
"""

from __future__ import annotations

import time
import unittest

import pytest

_REASON = (
    "needs a ROS 2 installation (launch_testing, rclpy): run it with "
    "`colcon test --packages-select ncp_driver_ros` in a sourced ROS 2 workspace"
)
pytest.importorskip("launch_testing", reason=_REASON)
pytest.importorskip("rclpy", reason=_REASON)

import launch_ros.actions  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
import launch_testing.util  # noqa: E402

import launch  # noqa: E402

MISSING_MODEL = "/nonexistent/ncp_driver/model.onnx"


@pytest.mark.rostest
def generate_test_description():  # type: ignore[no-untyped-def]
    driver = launch_ros.actions.Node(
        package="ncp_driver_ros",
        executable="driver",
        name="ncp_driver",
        parameters=[{"model_path": MISSING_MODEL}],
        output="screen",
    )
    return (
        launch.LaunchDescription(
            [driver, launch_testing.util.KeepAliveProc(), launch_testing.actions.ReadyToTest()]
        ),
        {"driver": driver},
    )


class TestBadModel(unittest.TestCase):
    def test_the_node_stops_and_says_why(self, proc_info, proc_output, driver) -> None:  # type: ignore[no-untyped-def]
        proc_info.assertWaitForShutdown(process=driver, timeout=30)
        time.sleep(1.0)  # the fault: the driver is gone long before the tests end
        proc_output.assertWaitFor("cannot load the model", process=driver, timeout=10)
        proc_output.assertWaitFor(MISSING_MODEL, process=driver, timeout=10)


@launch_testing.post_shutdown_test()
class TestBadModelExit(unittest.TestCase):
    def test_exit_code_is_one(self, proc_info, driver) -> None:  # type: ignore[no-untyped-def]
        launch_testing.asserts.assertExitCodes(proc_info, allowable_exit_codes=[1], process=driver)

"""The node against the stand-in as Humble's rclpy (fields always checked, no Jazzy-only
arguments): commands, diagnostics and a bad parameter, as under Jazzy."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Iterator

import numpy as np
import pytest
from rclpy_standin import StandIn, api, installed
from ros2_rig import START_TIME, Rig


@pytest.fixture(scope="module")
def humble() -> Iterator[StandIn]:
    with installed(purge=("ncp_driver_ros.driver_node",), distro="humble") as ros:
        yield ros


@pytest.fixture
def rig(humble: StandIn, tiny_model) -> Iterator[Rig]:
    api.reset(humble.messages)
    yield Rig(humble, importlib.import_module("ncp_driver_ros.driver_node"), tiny_model)
    api.try_shutdown()


def test_humble_refuses_what_only_jazzy_has(rig):
    import rclpy
    from rclpy.node import Node
    from rclpy.qos import QoSProfile

    rclpy.init()
    with pytest.raises(TypeError, match="enable_logger_service"):
        Node("n", enable_logger_service=True)
    node = Node("n")
    with pytest.raises(TypeError, match="autostart"):
        node.create_timer(1.0, lambda: None, autostart=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        QoSProfile(depth=0)  # no warning in Humble
    drive = rig.ros.msg("ackermann_msgs/msg/AckermannDrive")
    with pytest.raises(AssertionError):
        drive(steering_angle=np.float32(0.1))  # Humble always checks fields


def test_the_node_drives_under_humble(rig):
    rig.start()
    rig.set_auto(True)
    stamps = rig.drive(45, START_TIME)
    assert len(rig.commands()) == 45
    sent = [round(t * 1e9) for t in stamps]
    got = [c.header.stamp.sec * 1_000_000_000 + c.header.stamp.nanosec for c in rig.commands()]
    assert got == sent
    status = rig.received["/diagnostics"][-1].status[0] if "/diagnostics" in rig.received else None
    statuses = [
        a.status[0] for a in rig.received[next(iter(k for k in rig.received if "diagnostics" in k))]
    ]
    assert statuses and statuses[-1].level == statuses[-1].OK, status


def test_a_bad_parameter_stops_the_node_under_humble(rig):
    with pytest.raises(rig.driver_module.StartupError, match="camera_transport"):
        rig.start(camera_transport="h264")

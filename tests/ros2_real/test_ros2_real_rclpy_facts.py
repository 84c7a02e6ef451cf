"""What the rclpy stand-in claims about rclpy, checked against the real rclpy.

tests/ros2/test_ros2_standin.py checks the stand-in for each of these; here the same facts are
asserted of the real thing, so the stand-in cannot drift from it unnoticed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import rclpy
from ackermann_msgs.msg import AckermannDrive
from rclpy.clock import Clock
from rclpy.exceptions import NotInitializedException
from rclpy.impl.implementation_singleton import rclpy_implementation
from rclpy.node import Node
from rclpy.qos import QoSProfile
from rclpy.serialization import deserialize_message, serialize_message
from std_msgs.msg import Bool, Float32MultiArray
from std_srvs.srv import Trigger


@pytest.fixture
def node():
    assert not rclpy.ok()
    Clock().now()  # a Clock needs no context
    with pytest.raises(NotInitializedException):
        Node("early")
    rclpy.init(args=["facts", "--ros-args", "-p", "c:=[]"])
    node = Node("n", namespace="ns", enable_logger_service=True)
    yield node
    node.destroy_node()
    rclpy.shutdown()


def test_parameters_timers_qos_and_names(node):
    c = node.declare_parameter("c", ["cpu"])
    assert c.type_ == c.Type.NOT_SET and c.value is None
    assert node.create_timer(0.0, lambda: None)
    with pytest.raises(rclpy_implementation.RCLError):
        node.create_timer(-1.0, lambda: None)
    assert issubclass(rclpy_implementation.RCLError, RuntimeError)
    assert node.create_timer(1.0, lambda: None, autostart=False).is_canceled()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        QoSProfile(depth=0)
    assert "zero depth" in str(caught[0].message)
    second = rclpy.duration.Duration(seconds=1)
    QoSProfile(depth=1, deadline=second, lifespan=second, liveliness_lease_duration=second)
    with pytest.raises(AssertionError):
        QoSProfile(depth=1, lifespan=None)  # a Duration or nothing
    pub = node.create_publisher(Bool, "flag", 10)
    assert (pub.topic, pub.topic_name) == ("flag", "/ns/flag")
    assert node.create_service(Trigger, "~/go", lambda q, r: r).srv_name == "~/go"


def test_unchecked_fields_are_garbled_on_the_wire(node):
    import os

    if os.environ.get("ROS_PYTHON_CHECK_FIELDS") == "1":
        pytest.skip("ROS_PYTHON_CHECK_FIELDS=1 turns the checks on")
    assert deserialize_message(serialize_message(Bool(data=1)), Bool).data is False
    drive = AckermannDrive(steering_angle=np.float32(0.25), steer=1.0)  # neither refused
    assert deserialize_message(serialize_message(drive), AckermannDrive).steering_angle == 0.0
    assert list(Float32MultiArray(data=np.array([0.5, 1.5], np.float32)).data) == [0.5, 1.5]


def test_a_call_site_keeps_its_severity(node):
    logger = node.get_logger()

    def log(severity: str) -> None:
        getattr(logger, severity)("m")

    log("info")
    with pytest.raises(ValueError, match="severity cannot be changed"):
        log("warning")

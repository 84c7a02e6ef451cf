"""The rclpy stand-in behaves as rclpy does where the node depends on it (and the test helpers).

Each expectation here is rclpy's or rosidl_generator_py's behaviour (Humble and Jazzy source),
so that a node passing against the stand-in does not rely on something rclpy would refuse.
"""

from __future__ import annotations

import array
import sys

import numpy as np
import pytest
from ncp_driver_ros.latency import RollingWindow
from rclpy_standin import installed
from ros2_rig import ROS_PACKAGE
from ros2_tiny_model import COMMITTED, tiny_model_bytes

from ncp_driver.runtime import PipelineConfig, SteeringModel


def test_message_fields_are_checked_as_rosidl_generator_py_does(ros):
    drive_cls = ros.msg("ackermann_msgs/msg/AckermannDrive")
    assert drive_cls().steering_angle == 0.0
    with pytest.raises(AssertionError, match="steering_angle"):
        drive_cls(steering_angle=np.float32(0.1))  # numpy.float32 is not a float
    with pytest.raises(AssertionError):
        drive_cls(steering_angle=1)  # an int is not a float either
    with pytest.raises(AssertionError, match="Invalid arguments"):
        drive_cls(steer=0.1)
    time_cls = ros.msg("builtin_interfaces/msg/Time")
    with pytest.raises(AssertionError):
        time_cls(nanosec=-1)  # uint32
    status = ros.msg("diagnostic_msgs/msg/DiagnosticStatus")
    assert status.ERROR == b"\x02" and status().level == b"\x00"  # byte fields hold bytes
    with pytest.raises(AssertionError):
        status(level=2)
    multi = ros.msg("std_msgs/msg/Float32MultiArray")
    with pytest.raises(AssertionError):
        multi(data=np.zeros(3, np.float32))  # an ndarray is not a sequence
    assert multi(data=[1.0, 2.0]).data == array.array("f", [1.0, 2.0])
    image = ros.msg("sensor_msgs/msg/Image")(data=[1, 2, 3])
    assert isinstance(image.data, array.array) and image.data.typecode == "B"


def test_messages_cross_the_wire_as_cdr(ros):
    msg = ros.msg
    image = msg("sensor_msgs/msg/Image")(
        header=msg("std_msgs/msg/Header")(
            stamp=msg("builtin_interfaces/msg/Time")(sec=5, nanosec=7), frame_id="cam"
        ),
        height=1,
        width=2,
        encoding="rgb8",
        step=6,
        data=array.array("B", range(6)),
    )
    data = ros.messages.to_wire(image)
    assert isinstance(data, bytes) and len(data) > 6
    back = ros.messages.from_wire(data, "sensor_msgs/msg/Image")
    assert back == image and back is not image
    status = msg("diagnostic_msgs/msg/DiagnosticStatus")(level=b"\x01", name="x")
    wire = ros.messages.to_wire(status)
    assert ros.messages.from_wire(wire, "diagnostic_msgs/msg/DiagnosticStatus").level == b"\x01"


def _node(ros, name="n", **kwargs):
    import rclpy
    from rclpy.node import Node

    if not ros.context.ok():
        rclpy.init(args=kwargs.pop("args", None))
    node = Node(name, **kwargs)
    ros.executor.add_node(node)
    return node


def test_qos_matching_and_keep_last_history(ros):
    from rclpy.qos import (
        DurabilityPolicy,
        HistoryPolicy,
        QoSProfile,
        ReliabilityPolicy,
        qos_profile_sensor_data,
    )

    node = _node(ros)
    bool_cls = ros.msg("std_msgs/msg/Bool")
    got = {"reliable": [], "best_effort": [], "latched": []}
    reliable_sub = node.create_subscription(bool_cls, "t", got["reliable"].append, 10)
    best_effort = QoSProfile(depth=2, reliability=ReliabilityPolicy.BEST_EFFORT)
    keep2 = node.create_subscription(bool_cls, "t", got["best_effort"].append, best_effort)
    latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    node.create_subscription(bool_cls, "t", got["latched"].append, latched)
    assert reliable_sub.qos_profile.history == HistoryPolicy.KEEP_LAST
    assert reliable_sub.qos_profile.depth == 10  # an int is a KEEP_LAST depth

    sensor_pub = node.create_publisher(bool_cls, "t", qos_profile_sensor_data)
    for flag in (True, False, True):
        sensor_pub.publish(bool_cls(data=flag))
    ros.executor.spin_until_idle()
    assert got["reliable"] == [], "a reliable reader does not match a best-effort writer"
    assert [m.data for m in got["best_effort"]] == [False, True], "depth 2 keeps the newest 2"
    assert ros.context.lost(keep2) == 1
    assert got["latched"] == [], "a transient-local reader does not match a volatile writer"

    reliable_pub = node.create_publisher(bool_cls, "t", 10)
    reliable_pub.publish(bool_cls(data=True))
    ros.executor.spin_until_idle()
    assert len(got["reliable"]) == 1 and len(got["best_effort"]) == 3
    with pytest.raises(TypeError):
        reliable_pub.publish(ros.msg("std_msgs/msg/Float32")(data=1.0))


def test_parameters_are_statically_typed_and_ranged(ros):
    from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor
    from rclpy.exceptions import (
        InvalidParameterTypeException,
        InvalidParameterValueException,
        ParameterAlreadyDeclaredException,
    )

    node = _node(ros, args=["x", "--ros-args", "-p", "a:=3", "-p", "b:=2.5", "-p", "c:=[]"])
    with pytest.raises(ParameterAlreadyDeclaredException):
        node.declare_parameter("use_sim_time", False)  # rclpy's Node declares it
    with pytest.raises(InvalidParameterTypeException, match="expecting type 'DOUBLE'"):
        node.declare_parameter("a", 1.0)  # `a:=3` is an integer
    ranged = ParameterDescriptor(
        floating_point_range=[FloatingPointRange(from_value=0.0, to_value=1.0, step=0.0)]
    )
    with pytest.raises(InvalidParameterValueException, match="out of range"):
        node.declare_parameter("b", 0.5, ranged)
    with pytest.raises(InvalidParameterTypeException):
        node.declare_parameter("c", ["cpu"])  # rclpy types an empty list as a byte array
    assert node.declare_parameter("d", ["cpu"]).value == ["cpu"]


def test_timers_run_on_ros_time_and_late_calls_collapse(ros):
    node = _node(ros)
    calls = []
    node.create_timer(1.0, lambda: calls.append(ros.context.now))
    ros.context.advance(0.5)
    ros.executor.spin_until_idle()
    assert calls == []
    ros.context.advance(3.0)
    ros.executor.spin_until_idle()
    assert calls == [3.5]


def test_the_stand_in_refuses_to_shadow_modules_already_imported(ros):
    assert "rclpy" in sys.modules  # the module's stand-in
    with pytest.raises(RuntimeError, match="already imported"), installed():
        pass


def test_the_committed_tiny_model_is_the_generators_and_loads(tmp_path):
    assert COMMITTED.parent == ROS_PACKAGE / "test"
    assert COMMITTED.read_bytes() == tiny_model_bytes(), (
        "rewrite it: python tests/ros2/ros2_tiny_model.py"
    )
    model = SteeringModel.load(str(COMMITTED), PipelineConfig(warmup_runs=0))
    assert model.contract.kind == "ncp" and model.contract.state_size == 19


def test_rolling_window_median_and_p99():
    window = RollingWindow(100)
    assert np.isnan(window.median)
    for value in range(200):
        window.add(float(value))
    window.add(float("nan"))
    assert len(window) == 100
    expected = np.arange(100, 200, dtype=float)
    assert window.median == pytest.approx(np.quantile(expected, 0.5))
    assert window.p99 == pytest.approx(np.quantile(expected, 0.99))
    with pytest.raises(ValueError):
        RollingWindow(0)

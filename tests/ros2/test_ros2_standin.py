"""The rclpy stand-in behaves as rclpy does where the node depends on it (and the test helpers).

Each expectation here is rclpy's or rosidl_generator_py's behaviour (Humble and Jazzy source),
so that a node passing against the stand-in does not rely on something rclpy would refuse.
"""

from __future__ import annotations

import array
import os
import sys
import warnings

import numpy as np
import pytest
from ncp_driver_ros.latency import RollingWindow
from rclpy_standin import installed
from rclpy_standin.messages import MessageFactory
from ros2_rig import ROS_PACKAGE
from ros2_tiny_model import COMMITTED, tiny_model_bytes

from ncp_driver.runtime import PipelineConfig, SteeringModel


@pytest.fixture(scope="module")
def humble_messages():
    """Message classes with Humble's (and Jazzy's ROS_PYTHON_CHECK_FIELDS=1) field checks."""
    from ncp_driver.bags.typestore import make_typestore

    return MessageFactory(make_typestore(), check_fields=True)


def test_message_fields_are_checked_as_rosidl_generator_py_does(humble_messages):
    get = humble_messages.get
    drive_cls = get("ackermann_msgs/msg/AckermannDrive")
    assert drive_cls().steering_angle == 0.0
    with pytest.raises(AssertionError, match="steering_angle"):
        drive_cls(steering_angle=np.float32(0.1))  # numpy.float32 is not a float
    with pytest.raises(AssertionError):
        drive_cls(steering_angle=1)  # an int is not a float either
    with pytest.raises(AssertionError, match="Invalid arguments"):
        drive_cls(steer=0.1)
    time_cls = get("builtin_interfaces/msg/Time")
    with pytest.raises(AssertionError):
        time_cls(nanosec=-1)  # uint32
    status = get("diagnostic_msgs/msg/DiagnosticStatus")
    assert status.ERROR == b"\x02" and status().level == b"\x00"  # byte fields hold bytes
    with pytest.raises(AssertionError):
        status(level=2)
    multi = get("std_msgs/msg/Float32MultiArray")
    with pytest.raises(AssertionError):
        multi(data=np.zeros(3, np.float32))  # an ndarray is not a sequence
    assert multi(data=[1.0, 2.0]).data == array.array("f", [1.0, 2.0])
    image = get("sensor_msgs/msg/Image")(data=[1, 2, 3])
    assert isinstance(image.data, array.array) and image.data.typecode == "B"


def test_jazzy_does_not_check_fields_and_garbles_wrong_types_on_the_wire(ros, monkeypatch):
    """Jazzy's default (ROS_PYTHON_CHECK_FIELDS unset): values are stored as given, unknown
    arguments ignored, and the C conversion garbles what is not of the field's type."""
    from ncp_driver.bags.typestore import make_typestore

    assert not ros.messages.check_fields or os.environ.get("ROS_PYTHON_CHECK_FIELDS") == "1"
    jazzy = MessageFactory(make_typestore(), check_fields=False)
    drive_cls = jazzy.get("ackermann_msgs/msg/AckermannDrive")
    drive = drive_cls(steering_angle=np.float32(0.25), steer=1.0)  # neither refused
    back = jazzy.from_wire(jazzy.to_wire(drive), "ackermann_msgs/msg/AckermannDrive")
    assert back.steering_angle == 0.0, "a numpy.float32 in a float32 field is lost on the wire"
    bool_cls = jazzy.get("std_msgs/msg/Bool")
    assert jazzy.from_wire(jazzy.to_wire(bool_cls(data=1)), "std_msgs/msg/Bool").data is False
    multi = jazzy.get("std_msgs/msg/Float32MultiArray")(data=np.array([0.5, 1.5], np.float32))
    assert multi.data == array.array("f", [0.5, 1.5]), "an ndarray is accepted for float32[]"
    checked = drive_cls(check_fields=True)  # the constructor's own switch
    with pytest.raises(AssertionError):
        checked.steering_angle = np.float32(0.1)
    monkeypatch.setenv("ROS_PYTHON_CHECK_FIELDS", "1")
    assert MessageFactory(make_typestore()).check_fields


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
        ParameterUninitializedException,
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
    # rcl reads `c:=[]` as a value of no type: declare_parameter gives it back NOT_SET (no
    # exception, in Humble and Jazzy); get_parameter then raises.
    c = node.declare_parameter("c", ["cpu"])
    assert c.type_ == c.Type.NOT_SET and c.value is None
    with pytest.raises(ParameterUninitializedException):
        node.get_parameter("c")
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


def test_a_call_site_keeps_its_severity_and_filters_as_in_rclpy(ros):
    node = _node(ros)
    logger = node.get_logger()

    def log(severity: str, text: str, **kwargs):
        return getattr(logger, severity)(text, **kwargs)  # one call site, several severities

    assert log("info", "a")
    with pytest.raises(ValueError, match="severity cannot be changed"):
        log("warning", "b")
    assert log("info", "c")
    assert log("info", "d", **{})
    with pytest.raises(ValueError, match="filters cannot be changed"):
        log("info", "e", once=True)
    hits = [logger.warning("t", throttle_duration_sec=1.0) for _ in range(3)]
    assert hits == [True, False, False], "the throttle is per call site"
    ros.context.advance(1.0)
    assert logger.warning("t", throttle_duration_sec=1.0), "another call site, its own throttle"
    assert [logger.error("o", once=True) for _ in range(2)] == [True, False]
    with pytest.raises(TypeError, match="recognized logging options"):
        logger.info("x", every=2)


def test_nodes_timers_qos_and_publishers_as_jazzy(ros):
    import rclpy
    from rclpy.clock import Clock
    from rclpy.exceptions import NotInitializedException
    from rclpy.impl.implementation_singleton import rclpy_implementation
    from rclpy.node import Node
    from rclpy.qos import HistoryPolicy, QoSProfile

    with pytest.raises(NotInitializedException):
        Node("early")
    Clock().now()  # a Clock needs no context
    rclpy.init()
    node = Node("n", namespace="ns", enable_logger_service=True)
    assert node.create_timer(0.0, lambda: None), "a period of 0 is accepted"
    with pytest.raises(rclpy_implementation.RCLError):
        node.create_timer(-1.0, lambda: None)
    calls = []
    idle = node.create_timer(0.1, lambda: calls.append(1), autostart=False)
    assert idle.is_canceled()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        zero = QoSProfile(depth=0)
    assert "zero depth" in str(caught[0].message) and zero.history == HistoryPolicy.KEEP_LAST
    from rclpy.duration import Duration

    second = Duration(seconds=1)
    QoSProfile(depth=1, deadline=second, lifespan=second, liveliness=1)
    with pytest.raises(AssertionError):
        QoSProfile(depth=1, lifespan=None)  # a Duration or nothing, as rclpy
    bool_cls = ros.msg("std_msgs/msg/Bool")
    got = []
    sub = node.create_subscription(bool_cls, "flag", got.append, 10)
    pub = node.create_publisher(bool_cls, "flag", 10)
    assert (pub.topic, pub.topic_name, sub.topic) == ("flag", "/ns/flag", "flag")
    service = node.create_service(ros.srv("std_srvs", "Trigger"), "~/go", lambda q, r: r)
    assert service.srv_name == "~/go"
    pub.publish(ros.messages.to_wire(bool_cls(data=True)))  # serialized data as it is
    ros.executor.add_node(node)
    node.destroy_timer(node.timers[0])  # the period-0 timer would always be ready
    ros.executor.spin_until_idle()
    assert [m.data for m in got] == [True]


def test_spin_returns_after_a_shutdown_from_a_callback_and_raises_after_one_from_outside(ros):
    import rclpy
    from rclpy.executors import ExternalShutdownException

    node = _node(ros)
    node.create_timer(0.5, rclpy.shutdown)  # a callback shuts the context down: spin returns
    ros.context.on_idle = lambda: ros.context.advance(0.5)
    rclpy.spin(node)
    assert not ros.context.ok()

    ros.context.init(None)
    other = _node(ros, name="m")
    ros.context.on_idle = ros.context.try_shutdown  # as rclpy's SIGINT handler, mid-wait
    with pytest.raises(ExternalShutdownException):
        rclpy.spin(other)

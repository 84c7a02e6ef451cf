"""A test rig around the driver node: a second node plays camera, car and listener.

Time is the stand-in's simulated ROS time; every frame is published, then the executor runs
until nothing is ready, so tests assert behaviour, never timing.
"""

from __future__ import annotations

import array
from pathlib import Path
from types import ModuleType
from typing import Any

import cv2
import numpy as np
from rclpy_standin import StandIn

from ncp_driver import topics

ROS_PACKAGE = Path(__file__).resolve().parents[2] / "ros2_ws" / "src" / "ncp_driver_ros"
START_TIME = 1000.0  # ROS time when a rig starts, s
PERIOD = 1.0 / 30.0
LATENCY = 0.004  # frame stamp to delivery, s


def rgb_frame(level: float, height: int = 48, width: int = 64) -> np.ndarray:
    """A frame of constant brightness ``level`` (0..1) with a gradient so it is not flat."""
    ramp = np.linspace(-0.1, 0.1, width, dtype=np.float32)[None, :, None]
    values = np.clip(level + ramp, 0.0, 1.0) * 255.0
    return np.broadcast_to(values, (height, width, 3)).astype(np.uint8).copy()


class Rig:
    """The driver node under test plus a peer node with the camera, car and listener sides."""

    def __init__(self, ros: StandIn, driver_module: ModuleType, model_path: Path) -> None:
        self.ros = ros
        self.driver_module = driver_module
        self.model_path = model_path
        self.node: Any = None
        self.peer: Any = None
        self.received: dict[str, list[Any]] = {}
        self.auto_flag: bool | None = None  # repeated with every frame once set, as a car does

    # --- set-up ---------------------------------------------------------------------------

    def parameters(self, **params: Any) -> dict[str, Any]:
        """The rig's defaults (the tiny model, no warm-up) with ``params`` on top."""
        return {"model_path": str(self.model_path), "warmup_runs": 0, **params}

    def start(
        self, *, namespace: str | None = None, args: tuple[str, ...] = (), **params: Any
    ) -> Any:
        """rclpy.init, then the driver node with ``params`` as overrides, then the peer."""
        import rclpy
        from rclpy.node import Node
        from rclpy.parameter import Parameter

        self.ros.context.set_time(START_TIME)
        rclpy.init(args=["driver", "--ros-args", *args])
        overrides = [Parameter(k, value=v) for k, v in self.parameters(**params).items()]
        kwargs: dict[str, Any] = {"parameter_overrides": overrides}
        if namespace is not None:
            kwargs["namespace"] = namespace
        self.node = self.driver_module.DriverNode(**kwargs)
        self.peer = Node("rig", namespace=namespace)
        self._wire()
        self.ros.executor.add_node(self.node)
        self.ros.executor.add_node(self.peer)
        return self.node

    def _wire(self) -> None:
        from rclpy.qos import QoSProfile, qos_profile_sensor_data

        msg = self.ros.msg
        peer = self.peer
        self.camera = peer.create_publisher(
            msg("sensor_msgs/msg/Image"), topics.CAMERA_RAW, qos_profile_sensor_data
        )
        self.compressed = peer.create_publisher(
            msg("sensor_msgs/msg/CompressedImage"),
            topics.CAMERA_COMPRESSED,
            qos_profile_sensor_data,
        )
        self.auto = peer.create_publisher(msg("std_msgs/msg/Bool"), topics.AUTO_MODE, 10)
        self.speed = peer.create_publisher(
            msg("ackermann_msgs/msg/AckermannDriveStamped"), topics.HUMAN_STEERING, 10
        )
        keep_all = QoSProfile(depth=1000)
        for topic, typename in (
            (topics.COMMAND, "ackermann_msgs/msg/AckermannDriveStamped"),
            (topics.CURVATURE, "std_msgs/msg/Float32"),
            (topics.STEERING_WHEEL, "std_msgs/msg/Float32"),
            (topics.NEURONS, "std_msgs/msg/Float32MultiArray"),
            (topics.DIAGNOSTICS, "diagnostic_msgs/msg/DiagnosticArray"),
        ):
            self.received[topic] = []
            peer.create_subscription(msg(typename), topic, self.received[topic].append, keep_all)

    # --- messages -------------------------------------------------------------------------

    def stamp(self, t: float) -> Any:
        sec, nanosec = divmod(round(t * 1e9), 1_000_000_000)
        return self.ros.msg("builtin_interfaces/msg/Time")(sec=sec, nanosec=nanosec)

    def image(self, t: float, level: float = 0.6, rgb: np.ndarray | None = None) -> Any:
        """A sensor_msgs/Image (rgb8) stamped ``t``."""
        rgb = rgb_frame(level) if rgb is None else rgb
        height, width = rgb.shape[:2]
        msg = self.ros.msg
        return msg("sensor_msgs/msg/Image")(
            header=msg("std_msgs/msg/Header")(stamp=self.stamp(t), frame_id="camera"),
            height=height,
            width=width,
            encoding="rgb8",
            is_bigendian=0,
            step=width * 3,
            data=array.array("B", rgb.tobytes()),
        )

    def jpeg(self, t: float, level: float = 0.6) -> Any:
        """A sensor_msgs/CompressedImage as image_transport's compressed plugin writes it."""
        ok, data = cv2.imencode(".jpg", rgb_frame(level)[..., ::-1])
        assert ok
        msg = self.ros.msg
        return msg("sensor_msgs/msg/CompressedImage")(
            header=msg("std_msgs/msg/Header")(stamp=self.stamp(t), frame_id="camera"),
            format="rgb8; jpeg compressed bgr8",
            data=array.array("B", data.tobytes()),
        )

    # --- driving the rig ------------------------------------------------------------------

    def spin(self) -> int:
        return self.ros.executor.spin_until_idle()

    def at(self, t: float) -> None:
        """Move ROS time to ``t`` (timers due by then fire at the next spin)."""
        self.ros.context.set_time(t)

    def send(self, msg: Any, latency: float = LATENCY, compressed: bool = False) -> None:
        """Publish a camera frame, let ``latency`` pass after its stamp, run the callbacks."""
        stamp = msg.header.stamp
        self.at(stamp.sec + stamp.nanosec * 1e-9 + latency)
        if self.auto_flag is not None:
            self.auto.publish(self.ros.msg("std_msgs/msg/Bool")(data=self.auto_flag))
        (self.compressed if compressed else self.camera).publish(msg)
        self.spin()

    def drive(self, count: int, start: float, level: float = 0.6) -> list[float]:
        """``count`` frames at 30 Hz from ``start``; returns their stamps."""
        stamps = [start + i * PERIOD for i in range(count)]
        for t in stamps:
            self.send(self.image(t, level))
        return stamps

    def set_auto(self, flag: bool | None) -> None:
        """Publish the flag now and with every frame from now on (None: stop publishing it)."""
        self.auto_flag = flag
        if flag is None:
            return
        self.auto.publish(self.ros.msg("std_msgs/msg/Bool")(data=flag))
        self.spin()

    def tick_diagnostics(self) -> Any:
        """Move time one diagnostics period on, spin, and return the newest DiagnosticStatus."""
        period = self.node.get_parameter("diagnostics_period_s").value
        self.at(self.ros.context.now + period)
        self.spin()
        return self.received[topics.DIAGNOSTICS][-1].status[0]

    def commands(self) -> list[Any]:
        return self.received[topics.COMMAND]

    def neurons(self) -> list[Any]:
        return self.received[topics.NEURONS]

    def call_reset(self) -> Any:
        trigger = self.ros.srv("std_srvs", "Trigger")
        client = self.peer.create_client(trigger, "ncp_driver/reset_state")
        future = client.call_async(trigger.Request())
        self.spin()
        assert future.done(), "the reset service did not answer"
        return future.result()


def values(status: Any) -> dict[str, str]:
    """A DiagnosticStatus's KeyValues as a dict."""
    return {kv.key: kv.value for kv in status.values}

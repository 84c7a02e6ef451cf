"""The ROS 2 driver node: camera frames in, steering commands out. A thin adapter.

All behaviour (decoding, the model, state resets, limits, the watchdog, counters) lives in
``ncp_driver.runtime.SteeringPipeline``. This module only declares parameters, subscribes,
publishes what the pipeline returns, and reports diagnostics:

- camera (sensor_msgs/Image or CompressedImage), sensor-data QoS with depth 1: a frame that
  arrives while the previous one is processed replaces the queued one, so no queue builds up.
  Subscribed with ``raw=True``: the callback gets the CDR bytes and
  ``ncp_driver.images.read_image`` (the bag reader's too) views the pixels in them, so a 7 MB
  full-resolution frame is never copied or turned into a Python message;
- auto mode (std_msgs/Bool), reliable: engaging resets the recurrent state (in the pipeline);
- optional speed (AckermannDriveStamped drive.speed) for the lateral-acceleration limit, the
  latest for ``speed_timeout_s`` (``ncp_driver.runtime.speed``, as in the replay);
- out: AckermannDriveStamped (the front-wheel angle, stamped with the frame's stamp), Float32
  curvature, Float32MultiArray neuron potentials, DiagnosticArray on /diagnostics once a period
  (messages built by ``ncp_driver.runtime.commands``); with ``steering_wheel_ratio`` > 0 also
  the steering-wheel angle (Float32);
- service ``~/reset_state`` (std_srvs/Trigger).

A command leaves only when the pipeline returned one for this frame (it does so only for a
fresh, usable frame); the last command is never repeated, so when frames stop, commands stop
and the drive-by-wire times out on their stamps. In manual mode commands are
published while ``publish_when_manual`` is true (the drive-by-wire gate decides).
"""

from __future__ import annotations

import contextlib
import sys
import traceback
from typing import Any

import rclpy
from ackermann_msgs.msg import AckermannDriveStamped
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException
from rclpy.logging import get_logger
from rclpy.node import Node
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Bool, Float32, Float32MultiArray
from std_srvs.srv import Trigger

from ncp_driver.errors import NcpDriverError
from ncp_driver.images import IMAGE_TYPES, CorruptImage, ImageDecodeError, read_image
from ncp_driver.runtime import AutoModeWatch, FrameStatus, SteeringModel, SteeringPipeline
from ncp_driver.runtime.commands import command_message, float32_message, neurons_message
from ncp_driver.runtime.speed import LatestSpeed, message_speed
from ncp_driver.runtime.steering import steering_wheel_angle
from ncp_driver_ros.allocator import keep_freed_memory
from ncp_driver_ros.entry import interrupted
from ncp_driver_ros.errors import StartupError
from ncp_driver_ros.messages import DiagnosticTypes, diagnostics_message, ros_message_types
from ncp_driver_ros.monitor import DriverMonitor, Level, ModelInfo
from ncp_driver_ros.settings import ParamSpec, build_settings, checked_value, parameter_specs

__all__ = ["CAMERA_QOS", "COMMAND_QOS", "DriverNode", "main"]

NODE_NAME = "ncp_driver"

# The sensor-data profile (best effort, volatile) with a history of one frame.
CAMERA_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=qos_profile_sensor_data.reliability,
    durability=qos_profile_sensor_data.durability,
)
# Every auto-mode transition matters: reliable, a few deep. Volatile, so that it matches any
# publisher (a transient-local reader would not match a volatile writer).
AUTO_MODE_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=10,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)
# Commands: reliable, depth 1, so a slow reader gets the newest command, never a backlog.
COMMAND_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)
# Audit streams (neurons, diagnostics): reliable, a little history for recorders.
AUDIT_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=10,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)


def _descriptor(spec: ParamSpec) -> ParameterDescriptor:
    descriptor = ParameterDescriptor(
        description=spec.description,
        additional_constraints=spec.constraints,
        read_only=True,  # read once at start: changing it later would do nothing
    )
    if spec.range is not None and not isinstance(spec.default, bool):
        low, high = spec.range
        if isinstance(spec.default, int):
            descriptor.integer_range = [
                IntegerRange(from_value=int(low), to_value=int(high), step=1)
            ]
        elif isinstance(spec.default, float):
            descriptor.floating_point_range = [
                FloatingPointRange(from_value=float(low), to_value=float(high), step=0.0)
            ]
    return descriptor


class DriverNode(Node):
    """Feeds camera frames to the steering pipeline and publishes what it returns."""

    def __init__(self, node_name: str = NODE_NAME, **node_kwargs: Any) -> None:
        super().__init__(node_name, **node_kwargs)
        try:
            self._start()
        except BaseException:
            self.destroy_node()
            raise

    # --- start ----------------------------------------------------------------------------

    def _start(self) -> None:
        values = self._declare_parameters()
        try:
            config, settings = build_settings(values)
        except NcpDriverError as exc:
            raise StartupError(f"bad parameter: {exc}") from exc
        try:
            model = SteeringModel.load(config.model_path, config)
            self._pipeline = SteeringPipeline(config, model=model)
        except NcpDriverError as exc:
            raise StartupError(f"cannot load the model {config.model_path!r}: {exc}") from exc
        self._settings = settings
        self._types = ros_message_types()
        self._diagnostic_types = DiagnosticTypes.from_ros()
        self._mode = AutoModeWatch(config.auto_mode_timeout_s)
        self._speed = LatestSpeed(config.speed_timeout_s)
        self._last_level: Level | None = None
        info = ModelInfo(
            path=config.model_path,
            kind=model.contract.kind,
            provider=model.provider,
            model_hash=model.model_hash,
        )
        self._monitor = DriverMonitor(settings, info, self.get_name(), self._now())

        self._command_pub = self.create_publisher(
            AckermannDriveStamped, settings.command_topic, COMMAND_QOS
        )
        self._curvature_pub = self.create_publisher(Float32, settings.curvature_topic, COMMAND_QOS)
        self._steering_wheel_pub = (
            self.create_publisher(Float32, settings.steering_wheel_topic, COMMAND_QOS)
            if settings.steering_wheel_ratio > 0
            else None
        )
        self._neurons_pub = (
            self.create_publisher(Float32MultiArray, settings.neurons_topic, AUDIT_QOS)
            if settings.publish_neurons
            else None
        )
        self._diagnostics_pub = self.create_publisher(
            DiagnosticArray, settings.diagnostics_topic, AUDIT_QOS
        )
        compressed = settings.camera_transport == "compressed"
        camera_type = CompressedImage if compressed else Image
        self._camera_msgtype = IMAGE_TYPES[1] if compressed else IMAGE_TYPES[0]
        self._camera_sub = self.create_subscription(
            camera_type, settings.camera, self._on_image, CAMERA_QOS, raw=True
        )
        self._auto_sub = self.create_subscription(
            Bool, settings.auto_mode_topic, self._on_auto_mode, AUTO_MODE_QOS
        )
        self._speed_sub = (
            self.create_subscription(
                AckermannDriveStamped, settings.speed_topic, self._on_speed, CAMERA_QOS
            )
            if settings.speed_topic
            else None
        )
        self._reset_srv = self.create_service(Trigger, "~/reset_state", self._on_reset)
        self._diagnostics_timer = self.create_timer(
            settings.diagnostics_period_s, self._on_diagnostics
        )
        self.get_logger().info(
            f"model {config.model_path} ({model.contract.kind}, hash {model.model_hash[:12]}) on "
            f"{model.provider}; camera {self._camera_sub.topic_name} ({settings.camera_transport}); "
            f"commands on {self._command_pub.topic_name}; manual mode: {config.manual_mode}, "
            f"publish when manual: {settings.publish_when_manual}"
        )

    def _declare_parameters(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for spec in parameter_specs():
            try:
                parameter = self.declare_parameter(spec.name, spec.ros_default, _descriptor(spec))
            except ParameterException as exc:
                raise StartupError(
                    f"bad parameter {spec.name!r}: {exc}. Expected {type(spec.default).__name__}"
                    f"{' in ' + spec.constraints if spec.constraints else ''} (a double needs a "
                    "decimal point in YAML: 3.0, not 3)"
                ) from exc
            values[spec.name] = checked_value(spec, parameter.value)
        return values

    # --- callbacks ------------------------------------------------------------------------

    def _now(self) -> float:
        return float(self.get_clock().now().nanoseconds) * 1e-9

    def _on_image(self, data: bytes) -> None:
        now = self._now()
        try:
            msg: Any = read_image(data, self._camera_msgtype)
        except ImageDecodeError as exc:  # the pipeline rejects and counts it
            msg = CorruptImage(f"camera message does not read: {exc}")
        except Exception as exc:  # nothing after start may stop the node
            self._internal_error("camera callback", exc)
            return
        self._on_frame(msg, now)

    def _on_frame(self, msg: Any, now: float) -> None:
        """One camera message (any object with the Image or CompressedImage fields)."""
        try:
            if self._speed_sub is not None:
                self._pipeline.set_speed(self._speed.value(now))
            self._apply_mode(now)
            result = self._pipeline.process_image(msg, now=now)
            # The pipeline gives a command only for a fresh, usable frame (never a repeat), so
            # a command here is never one the watchdog would hold back.
            command = result.command
            publish = command is not None and (
                command.autonomous or self._settings.publish_when_manual
            )
            if publish and command is not None:
                stamp = msg.header.stamp
                self._command_pub.publish(
                    command_message(
                        self._types,
                        command.steering_angle,
                        stamp.sec,
                        stamp.nanosec,
                        self._settings.frame_id,
                    )
                )
                self._curvature_pub.publish(float32_message(self._types, command.curvature))
                if self._steering_wheel_pub is not None:
                    wheel = steering_wheel_angle(
                        command.steering_angle, self._settings.steering_wheel_ratio
                    )
                    self._steering_wheel_pub.publish(float32_message(self._types, wheel))
            if self._neurons_pub is not None and result.neurons is not None:
                self._neurons_pub.publish(neurons_message(self._types, result.neurons))
            self._monitor.on_frame(result, now, publish)
            if result.status is not FrameStatus.OK:
                self.get_logger().warning(
                    f"frame {result.status}: {result.reason}", throttle_duration_sec=1.0
                )
        except Exception as exc:  # nothing after start may stop the node
            self._internal_error("camera callback", exc)

    def _on_auto_mode(self, msg: Any) -> None:
        now = self._now()
        try:
            self._mode.update(bool(msg.data), now)
            self._monitor.on_auto_mode(now)
            self._apply_mode(now)
        except Exception as exc:
            self._internal_error("auto-mode callback", exc)

    def _apply_mode(self, now: float) -> None:
        """Give the pipeline the mode the flag says now (manual once the flag went silent)."""
        autonomous = self._mode.autonomous(now)
        if autonomous == self._pipeline.autonomous:
            return
        if autonomous:
            kept = self._pipeline.config.manual_mode == "shadow"
            self.get_logger().info(
                "auto mode engaged: " + ("state kept (shadow)" if kept else "state reset")
            )
        elif self._mode.expired(now):
            self.get_logger().error(
                f"auto-mode flag silent for {self._mode.age(now):.2f} s (auto_mode_timeout_s "
                f"{self._mode.timeout_s:g}): manual assumed, nothing autonomous commanded"
            )
        else:
            self.get_logger().info("auto mode released")
        self._pipeline.set_autonomous(autonomous, stamp=now)

    def _on_speed(self, msg: Any) -> None:
        try:
            self._speed.update(message_speed(msg), self._now())
        except Exception as exc:
            self._internal_error("speed callback", exc)

    def _on_reset(self, request: Any, response: Any) -> Any:
        try:
            self._pipeline.reset_state("service")
            response.success = True
            response.message = "recurrent state reset"
            self.get_logger().info("state reset by ~/reset_state")
        except Exception as exc:
            self._internal_error("reset service", exc)
            response.success = False
            response.message = f"reset failed: {type(exc).__name__}: {exc}"
        return response

    def _on_diagnostics(self) -> None:
        now = self._now()
        try:
            self._apply_mode(now)
            report = self._monitor.report(
                now,
                self._pipeline.stats,
                self._pipeline.watchdog_tripped(now),
                self._pipeline.autonomous,
                auto_mode_silent_s=self._mode.age(now) if self._mode.expired(now) else None,
            )
            stamp = self.get_clock().now().to_msg()
            self._diagnostics_pub.publish(
                diagnostics_message(self._types, self._diagnostic_types, report, stamp)
            )
            if report.level != self._last_level:
                self._last_level = report.level
                self._log_level_change(
                    report.level, f"diagnostics {report.level.name}: {report.message}"
                )
        except Exception as exc:
            self._internal_error("diagnostics timer", exc)

    def _log_level_change(self, level: Level, text: str) -> None:
        """One call site per severity: rclpy refuses a severity change at one call site."""
        logger = self.get_logger()
        if level == Level.OK:
            logger.info(text)
        elif level == Level.ERROR:
            logger.error(text)
        else:  # WARN, STALE
            logger.warning(text)

    def _internal_error(self, where: str, exc: Exception) -> None:
        self._monitor.on_internal_error(where, exc)
        self.get_logger().error(
            f"{where} failed: {type(exc).__name__}: {exc}", throttle_duration_sec=1.0
        )
        self.get_logger().debug(traceback.format_exc())


def main(args: list[str] | None = None) -> int:
    """``ros2 run ncp_driver_ros driver``: 0 after Ctrl-C or a launch shutdown, 1 if it cannot start.

    Ctrl-C ends with 0 and no traceback wherever it lands: while the node is made or the model
    loads, in ``spin`` (KeyboardInterrupt, or rclpy's RCLError "the given context is not valid"
    when rclpy's signal handler shut the context down under the wait set or the node being
    made), or while the node is taken down. (Before this: ``ncp_driver_ros.entry``.)

    Before the node is made, glibc's malloc is told to keep freed frame-sized buffers
    (:func:`ncp_driver_ros.allocator.keep_freed_memory`): without it every full-size raw frame
    faults its buffers' pages in anew.
    """
    rclpy.init(args=args)
    try:
        return _run(keep_freed_memory())
    except KeyboardInterrupt:
        return 0
    finally:
        with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C while shutting down
            rclpy.try_shutdown()


def _run(memory: str) -> int:
    try:
        node = DriverNode()
    except StartupError as exc:
        if interrupted(exc):  # a Ctrl-C inside onnxruntime while the model loaded
            return 0
        get_logger(NODE_NAME).fatal(f"cannot start: {exc}")
        return 1
    except ExternalShutdownException:  # stopped while loading the model
        return 0
    except RuntimeError:  # RCLError: SIGINT shut the context down while the node was made
        if rclpy.ok():
            raise
        return 0
    node.get_logger().info(memory)
    try:
        rclpy.spin(node)
    except ExternalShutdownException:
        pass
    except RuntimeError:  # RCLError (a RuntimeError) from a context that SIGINT shut down
        if rclpy.ok():
            raise
    finally:
        node.destroy_node()
    return 0


if __name__ == "__main__":
    sys.exit(main())

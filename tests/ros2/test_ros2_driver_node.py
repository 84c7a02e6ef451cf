"""The driver node against the rclpy stand-in, with the real pipeline and a real onnxruntime model."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from ros2_rig import LATENCY, PERIOD, START_TIME, Rig, rgb_frame, values

from ncp_driver import topics
from ncp_driver.runtime import PipelineConfig, SteeringPipeline

T0 = START_TIME + 0.1  # first frame stamp of most tests


def f32(value: float) -> float:
    """What a float32 message field carries."""
    return float(np.float32(value))


def stamp_of(msg) -> tuple[int, int]:
    return (msg.header.stamp.sec, msg.header.stamp.nanosec)


def statuses(rig: Rig) -> list:
    return [array.status[0] for array in rig.received[topics.DIAGNOSTICS]]


def test_each_frame_gives_a_command_with_its_stamp_and_the_pipelines_value(rig, tiny_model):
    rig.start()
    rig.set_auto(True)
    reference = SteeringPipeline(PipelineConfig(model_path=str(tiny_model), warmup_runs=0))
    reference.set_autonomous(True)
    expected = []
    for i in range(20):
        msg = rig.image(T0 + i * PERIOD, level=0.3 + 0.4 * (i % 7) / 6)
        rig.send(msg)
        expected.append((msg, reference.process_image(msg, now=rig.ros.context.now)))

    commands = rig.commands()
    assert [stamp_of(c) for c in commands] == [stamp_of(msg) for msg, _ in expected]
    assert all(c.header.frame_id == "base_link" for c in commands)
    angles = [c.drive.steering_angle for c in commands]
    assert angles == [f32(r.command.steering_angle) for _, r in expected]
    assert len(set(angles)) > 5, "the frames should steer differently"
    curvatures = [m.data for m in rig.received[topics.CURVATURE]]
    assert curvatures == [f32(r.command.curvature) for _, r in expected]
    neurons = rig.neurons()
    assert [list(m.data) for m in neurons] == [
        [f32(v) for v in r.neurons.reshape(-1)] for _, r in expected
    ]
    assert neurons[0].layout.dim[0].size == 19


def test_the_command_is_the_front_wheel_angle_and_a_steering_wheel_angle_only_if_asked(rig):
    """AckermannDrive.steering_angle is the front-wheel angle whatever the steering ratio; a
    drive-by-wire that takes a steering-wheel angle gets it on its own topic, x the ratio."""
    rig.start(steering_wheel_ratio=15.0)
    rig.set_auto(True)
    rig.drive(10, T0)
    commands = rig.commands()
    wheel = [m.data for m in rig.received[topics.STEERING_WHEEL]]
    curvatures = [m.data for m in rig.received[topics.CURVATURE]]
    assert len(commands) == len(wheel) == len(curvatures) == 10
    wheelbase = PipelineConfig().wheelbase_m
    for command, k, w in zip(commands, curvatures, wheel, strict=True):
        front = command.drive.steering_angle
        assert front == pytest.approx(np.arctan(wheelbase * k), rel=1e-5, abs=1e-7)
        assert w == pytest.approx(15.0 * front, rel=1e-5, abs=1e-7)


def test_no_steering_wheel_angle_by_default(rig):
    rig.start()
    rig.set_auto(True)
    rig.drive(5, T0)
    assert len(rig.commands()) == 5 and rig.received[topics.STEERING_WHEEL] == []


def test_a_frame_arriving_while_busy_replaces_the_queued_one(rig):
    rig.start()
    rig.set_auto(True)
    stamps = rig.drive(10, T0)  # the pipeline learns the camera period from these
    burst = [stamps[-1] + PERIOD * (i + 1) for i in range(5)]
    rig.at(burst[-1] + LATENCY)
    for t in burst:  # the camera publishes five frames while the node is busy
        rig.camera.publish(rig.image(t))
    (camera_sub,) = rig.ros.context.subscriptions("/" + topics.CAMERA_RAW)
    assert rig.ros.context.pending(camera_sub) == 1, "depth 1: only the newest frame waits"
    rig.spin()
    assert len(rig.commands()) == 11, "one frame of the burst was processed, not a queue"
    assert stamp_of(rig.commands()[-1]) == stamp_of(rig.image(burst[-1]))
    assert rig.ros.context.lost(camera_sub) == 4

    rig.drive(30, burst[-1] + PERIOD)  # on through the next diagnostics period
    figures = values(statuses(rig)[-1])
    assert figures["frames_dropped"] == "4"
    assert float(figures["drop_ratio"]) > 0.0


def test_watchdog_holds_commands_back_and_diagnostics_say_error(rig):
    rig.start()
    rig.set_auto(True)
    stamps = rig.drive(40, T0)
    assert statuses(rig)[-1].level == rig.ros.msg("diagnostic_msgs/msg/DiagnosticStatus").OK
    published = len(rig.commands())

    # The camera stalls; two seconds later an old frame turns up.
    rig.at(stamps[-1] + 2.0)
    rig.camera.publish(rig.image(stamps[-1] + PERIOD))
    rig.spin()
    assert len(rig.commands()) == published, "a stale frame must not produce a command"
    rig.at(rig.ros.context.now + 1.0)
    rig.spin()
    status = statuses(rig)[-1]
    assert status.level == status.ERROR
    assert "watchdog" in status.message
    assert values(status)["watchdog"] == "holding commands"
    assert values(status)["frames_stale"] == "1"

    # Fresh frames bring commands back.
    restart = rig.ros.context.now + 0.1
    rig.drive(40, restart)
    assert len(rig.commands()) == published + 40
    assert statuses(rig)[-1].level == status.OK


def test_engaging_auto_mode_resets_the_state(rig):
    rig.start()  # manual_mode = "reset": engaging starts the state from zero
    stamps = rig.drive(5, T0)
    assert len(rig.commands()) == 5, "published in manual mode (publish_when_manual)"
    rig.set_auto(True)
    rig.drive(3, stamps[-1] + PERIOD)
    default_elapsed = rig.node.get_parameter("default_elapsed_s").value
    after = [m.data[0] for m in rig.neurons()[-3:]]
    assert after[0] == pytest.approx(default_elapsed, abs=1e-6)
    assert after[1] > after[0] and after[2] > after[1], "the state runs once engaged"
    rig.drive(30, stamps[-1] + 4 * PERIOD)
    assert values(statuses(rig)[-1])["resets_engage"] == "1"


def test_shadow_mode_keeps_the_state_warm_at_engage(rig):
    rig.start(manual_mode="shadow")
    stamps = rig.drive(10, T0)
    warm = rig.neurons()[-1].data[0]
    assert warm > 5 * PERIOD
    rig.set_auto(True)
    rig.drive(1, stamps[-1] + PERIOD)
    assert rig.neurons()[-1].data[0] > warm


def test_manual_mode_reset_runs_the_state_from_zero_every_frame(rig):
    rig.start()  # manual_mode = "reset" (the paper)
    rig.drive(5, T0)
    default_elapsed = rig.node.get_parameter("default_elapsed_s").value
    assert [m.data[0] for m in rig.neurons()] == [f32(default_elapsed)] * 5


def test_reset_service_resets_the_state(rig):
    rig.start()
    rig.set_auto(True)
    stamps = rig.drive(10, T0)
    assert rig.neurons()[-1].data[0] > 5 * PERIOD

    response = rig.call_reset()
    assert response.success is True
    assert "reset" in response.message
    rig.drive(1, stamps[-1] + PERIOD)
    default_elapsed = rig.node.get_parameter("default_elapsed_s").value
    assert rig.neurons()[-1].data[0] == pytest.approx(default_elapsed, abs=1e-6)
    rig.drive(30, stamps[-1] + 2 * PERIOD)
    assert values(statuses(rig)[-1])["resets_service"] == "1"


def test_commands_wait_for_auto_mode_when_publish_when_manual_is_off(rig):
    rig.start(publish_when_manual=False)
    stamps = rig.drive(5, T0)
    assert rig.commands() == []
    assert len(rig.neurons()) == 5, "the neurons are published in manual mode too"
    rig.set_auto(True)
    rig.drive(5, stamps[-1] + PERIOD)
    assert len(rig.commands()) == 5


def test_diagnostics_carry_the_figures(rig, tiny_model):
    rig.start()
    rig.set_auto(True)
    rig.drive(70, T0)  # two diagnostics periods: (1000, 1001] and (1001, 1002]
    second = statuses(rig)[-1]
    assert second.level == second.OK, second.message
    assert "30.0 Hz" in second.message
    assert second.name == "ncp_driver: steering"
    model_hash = hashlib.sha256(tiny_model.read_bytes()).hexdigest()
    assert second.hardware_id == model_hash[:12]
    figures = values(second)
    assert figures["frame_rate_hz"] == "30.00"
    assert figures["latency_image_age_median_ms"] == f"{LATENCY * 1000:.2f}"
    assert figures["latency_image_age_p99_ms"] == f"{LATENCY * 1000:.2f}"
    for key in ("latency_processing_median_ms", "latency_processing_p99_ms"):
        assert 0.0 < float(figures[key]) < 1000.0
    assert float(figures["latency_processing_median_ms"]) <= float(
        figures["latency_processing_p99_ms"]
    )
    assert figures["frames_in"] == figures["frames_processed"] == figures["commands_published"]
    assert figures["frames_dropped"] == figures["frames_rejected"] == "0"
    assert figures["resets_start"] == "1" and figures["resets_total"] == "1"
    assert figures["provider"] == "cpu"
    assert figures["model_hash"] == model_hash
    assert figures["model_kind"] == "ncp"
    assert figures["autonomous"] == "true"
    assert figures["watchdog"] == "ok"
    assert "limit_max_curvature_rate" not in figures


def test_diagnostics_count_limit_activity(rig):
    rig.start(max_curvature=0.005)  # the tiny model asks for ~0.02 at this brightness
    rig.set_auto(True)
    rig.drive(40, T0, level=0.7)
    status = statuses(rig)[-1]
    figures = values(status)
    assert int(figures["limit_max_curvature"]) > 20
    assert float(figures["commands_limited_ratio"]) == 1.0
    assert status.level == status.WARN and "limits changed" in status.message
    assert all(m.data <= 0.005 + 1e-9 for m in rig.received[topics.CURVATURE])


def test_lateral_acceleration_limit_uses_the_speed_topic(rig):
    rig.start(speed_topic=topics.HUMAN_STEERING, max_lateral_accel=0.5)
    rig.set_auto(True)
    msg = rig.ros.msg
    drive = msg("ackermann_msgs/msg/AckermannDriveStamped")(
        drive=msg("ackermann_msgs/msg/AckermannDrive")(speed=20.0)
    )
    rig.at(T0)
    rig.speed.publish(drive)
    rig.spin()
    rig.drive(3, T0, level=0.7)
    limit = 0.5 / 20.0**2
    assert all(abs(m.data) <= limit + 1e-9 for m in rig.received[topics.CURVATURE])
    # Without a fresh speed (unknown after speed_timeout_s) the limit cannot be checked: the
    # pipeline holds the commands back rather than send one it cannot bound.
    sent = len(rig.received[topics.CURVATURE])
    rig.drive(30, T0 + 1.0, level=0.7)
    assert len(rig.received[topics.CURVATURE]) == sent


def test_bad_frames_and_nan_outputs_do_not_stop_the_node(rig):
    rig.start()
    rig.set_auto(True)
    stamps = rig.drive(5, T0)
    t = stamps[-1]
    bad_encoding = rig.image(t + PERIOD)
    bad_encoding.encoding = "no-such-encoding"
    truncated = rig.image(t + 2 * PERIOD)
    truncated.data = truncated.data[:100]
    black = rig.image(t + 3 * PERIOD, rgb=np.zeros((48, 64, 3), np.uint8))  # the model gives NaN
    for frame in (bad_encoding, truncated, black):
        rig.send(frame)
    assert len(rig.commands()) == 5, "no command for a bad frame or a NaN output"
    rig.drive(30, t + 4 * PERIOD)
    assert len(rig.commands()) == 35
    figures = values(statuses(rig)[-1])
    assert figures["frames_rejected"] == "2"
    assert figures["nonfinite_outputs"] == "1"
    assert figures["resets_nonfinite"] == "1"
    assert figures["internal_errors"] == "0"


def test_a_failing_callback_is_reported_not_fatal(rig, monkeypatch):
    rig.start()
    rig.set_auto(True)
    stamps = rig.drive(3, T0)

    def broken(msg, now=None):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(rig.node._pipeline, "process_image", broken)
    rig.send(rig.image(stamps[-1] + PERIOD))
    monkeypatch.undo()
    rig.drive(30, stamps[-1] + 2 * PERIOD)
    status = statuses(rig)[-1]
    assert values(status)["internal_errors"] == "1"
    assert any(r.severity == "ERROR" and "simulated bug" in r.message for r in rig.ros.context.logs)
    assert len(rig.commands()) == 33


def test_without_an_auto_mode_topic_the_node_runs_in_manual_and_warns(rig):
    rig.start()
    rig.drive(40, T0)
    status = statuses(rig)[-1]
    assert status.level == status.WARN
    assert topics.AUTO_MODE in status.message
    assert values(status)["autonomous"] == "false"
    assert len(rig.commands()) == 40


def test_no_frame_is_a_warning_then_an_error_after_the_startup_timeout(rig):
    rig.start(startup_timeout_s=2.5)
    rig.set_auto(True)
    rig.at(START_TIME + 1.0)
    rig.spin()
    waiting = statuses(rig)[-1]
    assert waiting.level == waiting.WARN and "waiting for the first camera frame" in waiting.message
    rig.at(START_TIME + 3.0)
    rig.spin()
    error = statuses(rig)[-1]
    assert error.level == error.ERROR and "no camera frame" in error.message


def test_compressed_transport(rig):
    rig.start(camera_transport="compressed")
    rig.set_auto(True)
    for i in range(3):
        rig.send(rig.jpeg(T0 + i * PERIOD), compressed=True)
    assert [stamp_of(c) for c in rig.commands()] == [
        stamp_of(rig.image(T0 + i * PERIOD)) for i in range(3)
    ]
    (sub,) = rig.ros.context.subscriptions("/" + topics.CAMERA_COMPRESSED)
    assert sub.msg_type.__msgtype__ == "sensor_msgs/msg/CompressedImage"


def test_neurons_can_be_switched_off(rig):
    rig.start(publish_neurons=False)
    rig.drive(3, T0)
    assert rig.neurons() == []
    assert len(rig.commands()) == 3


def test_topics_service_and_qos(rig):
    node = rig.start(namespace="car")
    rig.set_auto(True)
    rig.drive(2, T0)
    assert len(rig.commands()) == 2
    context = rig.ros.context
    (camera,) = context.subscriptions("/car/" + topics.CAMERA_RAW)
    from rclpy.qos import HistoryPolicy, ReliabilityPolicy

    assert camera.qos_profile.depth == 1
    assert camera.qos_profile.history == HistoryPolicy.KEEP_LAST
    assert camera.qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT
    (auto,) = context.subscriptions("/car/" + topics.AUTO_MODE)
    assert auto.qos_profile.reliability == ReliabilityPolicy.RELIABLE
    names = {p.topic_name for p in node.publishers}
    assert {
        "/car/ncp/steering_cmd",
        "/car/ncp/curvature",
        "/car/ncp/neurons",
        "/diagnostics",
    } <= names
    assert rig.call_reset().success is True  # /car/ncp_driver/reset_state


def test_a_reliable_camera_publisher_is_heard_too(rig):
    """A best-effort reader matches a reliable writer (cameras publish either way)."""
    rig.start()
    from rclpy.qos import QoSProfile

    reliable = rig.peer.create_publisher(
        rig.ros.msg("sensor_msgs/msg/Image"), topics.CAMERA_RAW, QoSProfile(depth=10)
    )
    rig.at(T0 + LATENCY)
    reliable.publish(rig.image(T0, 0.5))
    rig.spin()
    assert len(rig.commands()) == 1


def test_image_frames_of_any_size_are_cropped_by_the_contract(rig):
    rig.start()
    rig.set_auto(True)
    big = rgb_frame(0.5, height=121, width=203)
    rig.send(rig.image(T0, rgb=big))
    assert len(rig.commands()) == 1


def test_every_diagnostics_level_change_is_logged_and_driving_stays_ok(rig):
    """rclpy refuses a severity change at one logging call site: OK -> ERROR -> OK must log
    each change (info, error, info) without a callback error."""
    rig.start()
    rig.set_auto(True)
    stamps = rig.drive(45, START_TIME)  # 1.5 s of driving: diagnostics tick and say OK
    assert statuses(rig)[-1].level == statuses(rig)[-1].OK
    rig.at(stamps[-1] + 1.5)  # the camera stops: the watchdog trips
    rig.spin()
    assert statuses(rig)[-1].level == statuses(rig)[-1].ERROR
    rig.drive(45, rig.ros.context.now + 0.05)
    assert statuses(rig)[-1].level == statuses(rig)[-1].OK
    changes = [
        (r.severity, r.message.split(":")[0])
        for r in rig.ros.context.logs
        if r.message.startswith("diagnostics ")
    ]
    assert changes[-3:] == [
        ("INFO", "diagnostics OK"),
        ("ERROR", "diagnostics ERROR"),
        ("INFO", "diagnostics OK"),
    ], changes
    assert all(values(s)["internal_errors"] == "0" for s in statuses(rig))
    assert not [r for r in rig.ros.context.logs if "failed" in r.message]


def test_a_silent_auto_mode_flag_means_manual_and_error(rig):
    """Past auto_mode_timeout_s without a flag message: nothing autonomous is commanded and the
    diagnostics say ERROR; the flag coming back engages again (with a state reset)."""
    rig.start(publish_when_manual=False, auto_mode_timeout_s=0.5)
    rig.set_auto(True)
    stamps = rig.drive(30, START_TIME)
    assert len(rig.commands()) == 30
    rig.set_auto(None)  # the drive-by-wire's flag publisher goes silent; the camera goes on
    more = rig.drive(30, stamps[-1] + PERIOD)
    silent_after = rig.node._mode.timeout_s / PERIOD  # frames until it is past the timeout
    published = len(rig.commands()) - 30
    assert 0 < published <= silent_after + 1, "commands stop once the flag is past its timeout"
    status = rig.tick_diagnostics()
    assert status.level == status.ERROR
    assert "vehicle/autonomous" in status.message and "manual assumed" in status.message
    assert values(status)["auto_mode"] == "silent" and values(status)["autonomous"] == "false"
    assert any("flag silent" in r.message and r.severity == "ERROR" for r in rig.ros.context.logs)
    before = len(rig.commands())
    rig.set_auto(True)  # it is back
    rig.drive(45, more[-1] + 2 * PERIOD)
    assert len(rig.commands()) == before + 45
    assert statuses(rig)[-1].level == status.OK, statuses(rig)[-1].message


def test_the_camera_is_read_raw_and_damaged_bytes_are_counted_not_fatal(rig):
    """The node takes the CDR bytes (raw=True) and reads them itself: a truncated frame is a
    rejected frame with the reason, and the next good frame is commanded."""
    rig.start()
    (camera,) = [s for s in rig.node.subscriptions if s.topic_name == "/" + topics.CAMERA_RAW]
    assert camera.raw, "the camera subscription hands over serialized bytes"
    good = rig.ros.messages.to_wire(rig.image(START_TIME))
    rig.at(START_TIME + LATENCY)
    rig.camera.publish(good[: len(good) // 2])  # cut short on the wire
    rig.spin()
    assert rig.commands() == []
    assert rig.node._pipeline.stats.frames_rejected == 1
    assert any("truncated" in r.message for r in rig.ros.context.logs if r.severity == "WARN")
    rig.send(rig.image(START_TIME + PERIOD))
    assert len(rig.commands()) == 1

"""Starting and stopping the driver: bad parameters, bad models, main(), Ctrl-C and launch shutdown."""

from __future__ import annotations

from pathlib import Path

import pytest
from ros2_rig import PERIOD, ROS_PACKAGE, START_TIME

from ncp_driver import topics

PARAMS_FILE = ROS_PACKAGE / "config" / "driver.yaml"


def write_params(path: Path, body: str) -> Path:
    path.write_text("/**:\n  ros__parameters:\n" + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"model_path": ""}, ["model_path is empty", "model:="]),
        ({"model_path": "/no/such/model.onnx"}, ["cannot load the model", "/no/such/model.onnx"]),
        ({"camera_transport": "h264"}, ["camera_transport", "'raw'", "'compressed'"]),
        ({"providers": ["gpu"]}, ["providers", "tensorrt", "cuda", "cpu"]),
        ({"manual_mode": "sometimes"}, ["manual_mode", "reset", "shadow"]),
        ({"watchdog_timeout_s": -1.0}, ["watchdog_timeout_s", "out of range"]),
        ({"max_curvature": 0.0}, ["max_curvature", "> 0"]),
        ({"min_elapsed_s": 0.4, "max_elapsed_s": 0.1}, ["min_elapsed_s", "max_elapsed_s"]),
        ({"max_lateral_accel": 3.0}, ["max_lateral_accel", "speed_topic"]),
        ({"command_topic": " "}, ["command_topic is empty"]),
        ({"wheelbase_m": 3}, ["wheelbase_m", "decimal point"]),  # an int for a double
    ],
)
def test_bad_parameters_stop_the_node_with_a_clear_message(rig, params, expected):
    with pytest.raises(rig.driver_module.StartupError) as caught:
        rig.start(**params)
    message = str(caught.value)
    for text in expected:
        assert text in message, message
    assert rig.ros.context.nodes == [], "the half-built node was destroyed"


def test_a_file_that_is_not_a_model_stops_the_node(rig, tmp_path):
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not an onnx file")
    with pytest.raises(rig.driver_module.StartupError, match="cannot load the model"):
        rig.start(model_path=str(fake))


def test_an_int_in_a_parameter_file_for_a_double_is_named(ros, driver_module, tiny_model, tmp_path):
    params = write_params(
        tmp_path / "p.yaml", f"    model_path: {tiny_model}\n    wheelbase_m: 3\n"
    )
    code = driver_module.main(["driver", "--ros-args", "--params-file", str(params)])
    assert code == 1
    (fatal,) = [r for r in ros.context.logs if r.severity == "FATAL"]
    assert "wheelbase_m" in fatal.message and "DOUBLE" in fatal.message


def test_main_refuses_to_start_without_a_model(ros, driver_module):
    assert driver_module.main(["driver"]) == 1
    (fatal,) = [r for r in ros.context.logs if r.severity == "FATAL"]
    assert "model_path is empty" in fatal.message
    assert not ros.context.ok(), "rclpy was shut down"


def _args(model: Path, *extra: str) -> list[str]:
    return ["driver", "--ros-args", "-p", f"model_path:={model}", "-p", "warmup_runs:=0", *extra]


def test_ctrl_c_stops_main_cleanly(ros, driver_module, tiny_model):
    def ctrl_c() -> None:
        raise KeyboardInterrupt

    ros.context.on_idle = ctrl_c
    assert driver_module.main(_args(tiny_model)) == 0
    assert ros.context.nodes == [], "the node was destroyed"
    assert not ros.context.ok()


def test_ctrl_c_while_the_model_loads_stops_main_cleanly(ros, driver_module, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(driver_module, "DriverNode", interrupted)
    assert driver_module.main(["driver"]) == 0
    assert not ros.context.ok()


def test_launch_shutdown_stops_main_cleanly_after_driving(ros, driver_module, tiny_model):
    """launch sends SIGINT; rclpy shuts the context down and spin raises
    ExternalShutdownException. Frames published before that are processed first."""
    import rclpy
    from rclpy.node import Node
    from rclpy.qos import qos_profile_sensor_data

    commands: list = []
    script = iter(range(4))

    def on_idle() -> None:
        step = next(script)
        if step == 0:  # the node is up: a camera and a listener appear
            peer = Node("peer")
            on_idle.camera = peer.create_publisher(  # type: ignore[attr-defined]
                ros.msg("sensor_msgs/msg/Image"), topics.CAMERA_RAW, qos_profile_sensor_data
            )
            peer.create_subscription(
                ros.msg("ackermann_msgs/msg/AckermannDriveStamped"),
                topics.COMMAND,
                commands.append,
                10,
            )
            rclpy.get_global_executor().add_node(peer)
        if step in (1, 2):
            stamp = START_TIME + step * PERIOD
            ros.context.set_time(stamp + 0.002)
            on_idle.camera.publish(_image(ros, stamp))  # type: ignore[attr-defined]
        if step == 3:
            rclpy.shutdown()

    ros.context.set_time(START_TIME)
    ros.context.on_idle = on_idle
    assert driver_module.main(_args(tiny_model)) == 0
    assert len(commands) == 2
    assert not ros.context.ok()


def test_the_default_parameter_file_starts_the_node(ros, driver_module, tiny_model):
    """config/driver.yaml against the real declarations (types and ranges)."""
    ros.context.on_idle = _raise_keyboard_interrupt
    args = ["driver", "--ros-args", "--params-file", str(PARAMS_FILE)]
    assert driver_module.main([*args, "-p", f"model_path:={tiny_model}"]) == 0
    infos = [r.message for r in ros.context.logs if r.severity == "INFO"]
    assert any(f"model {tiny_model}" in m for m in infos)


def _raise_keyboard_interrupt() -> None:
    raise KeyboardInterrupt


def _image(ros, stamp: float):
    import array

    from ros2_rig import rgb_frame

    sec, nanosec = divmod(round(stamp * 1e9), 1_000_000_000)
    msg = ros.msg
    rgb = rgb_frame(0.5)
    return msg("sensor_msgs/msg/Image")(
        header=msg("std_msgs/msg/Header")(
            stamp=msg("builtin_interfaces/msg/Time")(sec=sec, nanosec=nanosec)
        ),
        height=rgb.shape[0],
        width=rgb.shape[1],
        encoding="rgb8",
        step=rgb.shape[1] * 3,
        data=array.array("B", rgb.tobytes()),
    )


def _parameter_names() -> list[str]:
    from ncp_driver_ros.settings import parameter_specs

    return [spec.name for spec in parameter_specs()]


@pytest.mark.parametrize("name", _parameter_names())
def test_an_empty_list_for_any_parameter_stops_the_node_naming_it(
    ros, driver_module, tiny_model, name
):
    """rclpy gives `-p name:=[]` back unset (value None) instead of refusing it."""
    code = driver_module.main([*_args(tiny_model), "-p", f"{name}:=[]"])
    assert code == 1
    (fatal,) = [r for r in ros.context.logs if r.severity == "FATAL"]
    assert f"'{name}'" in fatal.message and "no value" in fatal.message, fatal.message
    assert ros.context.nodes == [] and not ros.context.ok()


def test_an_empty_list_in_a_parameter_file_is_named(ros, driver_module, tiny_model, tmp_path):
    params = write_params(tmp_path / "p.yaml", f"    model_path: {tiny_model}\n    providers: []\n")
    assert driver_module.main(["driver", "--ros-args", "--params-file", str(params)]) == 1
    (fatal,) = [r for r in ros.context.logs if r.severity == "FATAL"]
    assert "'providers'" in fatal.message and "list of strings" in fatal.message


def test_ctrl_c_that_makes_spin_raise_rclerror_still_exits_0(ros, driver_module, tiny_model):
    """The rclpy race: SIGINT shuts the context down while spin builds its wait set, and spin
    raises RCLError ("the given context is not valid") instead of KeyboardInterrupt."""
    from rclpy.impl.implementation_singleton import rclpy_implementation

    def sigint_mid_wait() -> None:
        ros.context.try_shutdown()  # what rclpy's SIGINT handler does
        raise rclpy_implementation.RCLError(
            "failed to initialize wait set: the given context is not valid, at ./src/rcl/wait.c"
        )

    ros.context.on_idle = sigint_mid_wait
    assert driver_module.main(_args(tiny_model)) == 0
    assert ros.context.nodes == [] and not ros.context.ok()


def test_an_rclerror_while_the_context_is_valid_is_not_hidden(ros, driver_module, tiny_model):
    from rclpy.impl.implementation_singleton import rclpy_implementation

    def broken() -> None:
        raise rclpy_implementation.RCLError("something else went wrong")

    ros.context.on_idle = broken
    with pytest.raises(rclpy_implementation.RCLError, match="something else"):
        driver_module.main(_args(tiny_model))
    assert ros.context.nodes == [] and not ros.context.ok()


def test_ctrl_c_while_the_node_is_taken_down_exits_0(ros, driver_module, tiny_model, monkeypatch):
    ros.context.on_idle = _raise_keyboard_interrupt

    def interrupted(self) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(driver_module.DriverNode, "destroy_node", interrupted)
    assert driver_module.main(_args(tiny_model)) == 0
    assert not ros.context.ok()


def test_ctrl_c_while_the_node_module_is_imported_exits_0(ros, monkeypatch):
    """The entry point imports rclpy and the pipeline inside main(): a Ctrl-C meanwhile is 0."""
    import importlib
    import sys

    entry = importlib.import_module("ncp_driver_ros.entry")

    class Interrupting:
        def find_spec(self, name, path=None, target=None):
            if name == "ncp_driver_ros.driver_node":
                raise KeyboardInterrupt
            return None

    monkeypatch.delitem(sys.modules, "ncp_driver_ros.driver_node", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Interrupting(), *sys.meta_path])
    assert entry.main(["driver"]) == 0


def test_a_ctrl_c_that_a_native_module_turned_into_another_error_is_still_0(
    ros, monkeypatch, driver_module, tiny_model
):
    """onnxruntime turns a KeyboardInterrupt during its initialisation into ImportError."""
    import importlib
    import sys

    entry = importlib.import_module("ncp_driver_ros.entry")

    class Wrapping:
        def find_spec(self, name, path=None, target=None):
            if name == "ncp_driver_ros.driver_node":
                try:
                    raise KeyboardInterrupt
                except KeyboardInterrupt as exc:
                    raise ImportError("initialization failed") from exc
            return None

    monkeypatch.delitem(sys.modules, "ncp_driver_ros.driver_node", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Wrapping(), *sys.meta_path])
    assert entry.main(["driver"]) == 0
    monkeypatch.setattr(sys, "meta_path", [m for m in sys.meta_path if not isinstance(m, Wrapping)])
    with pytest.raises(ImportError):  # a real import error is not hidden
        monkeypatch.setitem(sys.modules, "ncp_driver_ros.driver_node", None)
        entry.main(["driver"])


def test_ctrl_c_while_the_node_is_made_exits_0(ros, driver_module, tiny_model, monkeypatch):
    """SIGINT right after rclpy.init: rclpy shuts the context down and making the node raises
    RCLError ("the given context is not valid")."""
    from rclpy.impl.implementation_singleton import rclpy_implementation

    def sigint_then_make(*args, **kwargs):
        ros.context.try_shutdown()
        raise rclpy_implementation.RCLError("error creating node: the given context is not valid")

    monkeypatch.setattr(driver_module, "DriverNode", sigint_then_make)
    assert driver_module.main(_args(tiny_model)) == 0
    assert [r for r in ros.context.logs if r.severity == "FATAL"] == []


def test_a_model_with_nan_weights_stops_the_node(rig, tmp_path):
    """Issue 10: refused at start with the reason, not started to never command."""
    import numpy as np
    import onnx
    from onnx import numpy_helper
    from ros2_tiny_model import build_tiny_model

    proto = build_tiny_model()
    for init in proto.graph.initializer:
        value = numpy_helper.to_array(init)
        if value.dtype == np.float32:
            init.CopyFrom(numpy_helper.from_array(np.full_like(value, np.nan), init.name))
    path = tmp_path / "nan.onnx"
    onnx.save(proto, str(path))
    with pytest.raises(rig.driver_module.StartupError, match="not finite"):
        rig.start(model_path=str(path), warmup_runs=0)
    assert rig.ros.context.nodes == []

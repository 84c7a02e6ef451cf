"""The launch files' plain-Python parts, loaded here without ROS 2 (launch is not installable).

What needs launch itself (the actions) runs in the launch_testing test on a real ROS 2.
"""

from __future__ import annotations

import ast
import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest
from ros2_rig import ROS_PACKAGE

from ncp_driver import topics

REPO = ROS_PACKAGE.parents[2]
LAUNCH = REPO / "launch"


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def driver_launch() -> ModuleType:
    return load(LAUNCH / "driver.launch.py", "ncp_driver_launch_driver")


@pytest.fixture(scope="module")
def replay_launch() -> ModuleType:
    return load(LAUNCH / "replay.launch.py", "ncp_driver_launch_replay")


@pytest.mark.parametrize("name", ["driver.launch.py", "replay.launch.py"])
def test_launch_files_import_launch_only_inside_functions(name):
    tree = ast.parse((LAUNCH / name).read_text(encoding="utf-8"))
    top = {
        (n.module if isinstance(n, ast.ImportFrom) else n.names[0].name).split(".")[0]
        for n in tree.body
        if isinstance(n, (ast.Import, ast.ImportFrom))
    }
    assert not top & {"launch", "launch_ros", "rclpy"}
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "generate_launch_description" in functions


def test_driver_launch_arguments(driver_launch):
    names = {"model", "params_file", "camera_topic", "namespace", "dds_profile"}
    assert names <= set(driver_launch.ARGUMENTS)
    assert driver_launch.PACKAGE == "ncp_driver_ros" and driver_launch.EXECUTABLE == "driver"


def test_params_file_from_the_checkout(driver_launch):
    found = driver_launch.default_params_file(LAUNCH / "driver.launch.py")
    assert found == ROS_PACKAGE / "config" / "driver.yaml"


def test_params_file_when_installed_even_through_a_symlink(driver_launch, tmp_path):
    share = tmp_path / "install" / "share" / "ncp_driver_ros"
    (share / "launch").mkdir(parents=True)
    (share / "config").mkdir()
    (share / "config" / "driver.yaml").write_text("/**: {ros__parameters: {}}\n")
    installed = share / "launch" / "driver.launch.py"
    installed.symlink_to(LAUNCH / "driver.launch.py")  # as colcon --symlink-install leaves it
    assert driver_launch.default_params_file(installed) == share / "config" / "driver.yaml"


def _not_installed() -> Path:
    raise LookupError("package 'ncp_driver_ros' not found")  # PackageNotFoundError's base


def test_no_params_file_found_says_what_to_do(driver_launch, tmp_path):
    """Whether ncp_driver_ros is built and sourced here or not: the lookup is given."""
    lone = tmp_path / "elsewhere" / "driver.launch.py"
    lone.parent.mkdir()
    lone.write_text("")
    with pytest.raises(FileNotFoundError, match="params_file:="):
        driver_launch.default_params_file(lone, installed_share=_not_installed)
    share = tmp_path / "share" / "ncp_driver_ros"
    found = driver_launch.default_params_file(lone, installed_share=lambda: share)
    assert found == share / "config" / "driver.yaml"


def test_the_dds_profile_is_added_to_cyclonedds_uri(driver_launch, tmp_path):
    launch_file = LAUNCH / "driver.launch.py"
    profile = ROS_PACKAGE / "config" / "cyclonedds_large_images.xml"
    assert driver_launch.cyclonedds_uri(None, "large_images", launch_file) == profile.as_uri()
    loopback = "file:///etc/lo.xml"
    merged = driver_launch.cyclonedds_uri(loopback, "large_images", launch_file)
    assert merged == f"{loopback},{profile.as_uri()}", "the settings already there are kept"
    assert driver_launch.cyclonedds_uri(merged, "large_images", launch_file) == merged
    assert driver_launch.cyclonedds_uri(loopback, "none", launch_file) is None
    assert driver_launch.cyclonedds_uri(loopback, "", launch_file) is None
    mine = tmp_path / "mine.xml"
    mine.write_text("<CycloneDDS/>")
    assert driver_launch.cyclonedds_uri("", str(mine), launch_file) == mine.as_uri()
    with pytest.raises(FileNotFoundError, match="large_images"):
        driver_launch.cyclonedds_uri("", str(tmp_path / "missing.xml"), launch_file)


def test_the_shipped_dds_profile_is_cyclone_xml_for_large_frames():
    import xml.etree.ElementTree as ET

    root = ET.parse(ROS_PACKAGE / "config" / "cyclonedds_large_images.xml").getroot()
    ns = {"c": "https://cdds.io/config"}
    assert root.tag == "{https://cdds.io/config}CycloneDDS"
    receive = root.find("c:Domain/c:Internal/c:SocketReceiveBufferSize", ns)
    assert receive is not None and receive.get("min") == "default", "never fail to start"
    assert root.find("c:Domain/c:General/c:MaxMessageSize", ns) is not None


def test_a_driver_that_exits_non_zero_fails_the_launch(driver_launch):
    assert driver_launch.driver_exit_error(0) is None
    error = driver_launch.driver_exit_error(1)
    assert isinstance(error, RuntimeError) and "exited with code 1" in str(error)
    assert driver_launch.driver_exit_error(-15) is not None  # killed


def test_node_parameters_override_only_what_is_given(driver_launch, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params = driver_launch.node_parameters("/p/driver.yaml")
    assert params == ["/p/driver.yaml", {"use_sim_time": False}]
    params = driver_launch.node_parameters(
        "/p/driver.yaml",
        model="models/m.onnx",
        camera_topic="front/image",
        camera_transport="compressed",
        use_sim_time=True,
    )
    assert params[1] == {
        "use_sim_time": True,
        "model_path": os.path.join(str(tmp_path), "models", "m.onnx"),
        "camera_topic": "front/image",
        "camera_transport": "compressed",
    }


def test_launch_bools(driver_launch):
    assert driver_launch.is_true("True") and driver_launch.is_true("1")
    assert not driver_launch.is_true("false") and not driver_launch.is_true("")


def test_replay_plays_inputs_only_and_records_outputs(replay_launch):
    camera = replay_launch.camera_topic("", "compressed")
    assert camera == "/" + topics.CAMERA_COMPRESSED
    played = replay_launch.play_topics(camera, speed_topic="vehicle/steering")
    assert played == [camera, "/" + topics.AUTO_MODE, "/vehicle/steering"]
    recorded = replay_launch.record_topics()
    for output in (topics.COMMAND, topics.CURVATURE, topics.NEURONS):
        assert "/" + output in recorded and "/" + output not in played
    assert topics.DIAGNOSTICS in recorded


def test_replay_commands(replay_launch, tmp_path):
    bag = str(tmp_path / "drive_0001")
    play = replay_launch.play_command(bag, ["/camera/image_raw"], "2.0", "1.5")
    assert play[:4] == ["ros2", "bag", "play", bag]
    assert "--clock" in play and play[play.index("--rate") + 1] == "2.0"
    assert play[play.index("--topics") + 1 :] == ["/camera/image_raw"]
    out = replay_launch.output_path(bag)
    assert out == bag + "_ncp_replay"
    assert replay_launch.output_path(str(tmp_path / "x.mcap")) == str(tmp_path / "x_ncp_replay")
    record = replay_launch.record_command(out, ["/ncp/steering_cmd"], storage="mcap")
    assert record == [
        "ros2", "bag", "record", "--use-sim-time", "-o", out, "-s", "mcap", "/ncp/steering_cmd",
    ]  # fmt: skip
    assert "-s" not in replay_launch.record_command(out, ["/a"])
    assert "bag" in replay_launch.ARGUMENTS and replay_launch.ARGUMENTS["bag"][0] is None

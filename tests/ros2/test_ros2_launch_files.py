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


CYCLONE_PROFILE = ROS_PACKAGE / "config" / "cyclonedds_large_images.xml"
FASTDDS_PROFILE = ROS_PACKAGE / "config" / "fastdds_large_images.xml"


def settings(driver_launch, profile="large_images", **environ):
    return driver_launch.dds_settings(environ, profile, LAUNCH / "driver.launch.py")


def test_cyclone_dds_gets_its_profile_added_to_cyclonedds_uri(driver_launch, tmp_path):
    cyclone = {"RMW_IMPLEMENTATION": "rmw_cyclonedds_cpp"}
    done = settings(driver_launch, **cyclone)
    assert done.variables == {"CYCLONEDDS_URI": CYCLONE_PROFILE.as_uri()}
    loopback = "file:///etc/lo.xml"
    merged = settings(driver_launch, **cyclone, CYCLONEDDS_URI=loopback).variables
    assert merged == {"CYCLONEDDS_URI": f"{loopback},{CYCLONE_PROFILE.as_uri()}"}, "kept"
    again = settings(driver_launch, **cyclone, CYCLONEDDS_URI=merged["CYCLONEDDS_URI"])
    assert again.variables == {}, "already there: nothing to set"
    assert "FASTRTPS_DEFAULT_PROFILES_FILE" not in done.variables
    mine = tmp_path / "mine.xml"
    mine.write_text('<CycloneDDS xmlns="https://cdds.io/config"/>')
    assert settings(driver_launch, str(mine), **cyclone).variables == {
        "CYCLONEDDS_URI": mine.as_uri()
    }


@pytest.mark.parametrize("rmw", ["rmw_fastrtps_cpp", "rmw_fastrtps_dynamic_cpp"])
def test_fast_dds_gets_its_profile_file(driver_launch, tmp_path, rmw):
    done = settings(driver_launch, RMW_IMPLEMENTATION=rmw, CYCLONEDDS_URI="file:///etc/lo.xml")
    assert done.variables == {"FASTRTPS_DEFAULT_PROFILES_FILE": str(FASTDDS_PROFILE)}
    assert done.notes == []
    same = settings(
        driver_launch, RMW_IMPLEMENTATION=rmw, FASTRTPS_DEFAULT_PROFILES_FILE=str(FASTDDS_PROFILE)
    )
    assert same.variables == {} and same.notes == []
    # Fast DDS reads one file: the user's own is kept for the named profile, with a note...
    theirs = settings(
        driver_launch, RMW_IMPLEMENTATION=rmw, FASTRTPS_DEFAULT_PROFILES_FILE="/etc/mine.xml"
    )
    assert theirs.variables == {} and "/etc/mine.xml" in theirs.notes[0]
    # ... and replaced by a path given explicitly.
    mine = tmp_path / "mine.xml"
    mine.write_text('<dds xmlns="http://www.eprosima.com/XMLSchemas/fastRTPS_Profiles"/>')
    chosen = driver_launch.dds_settings(
        {"RMW_IMPLEMENTATION": rmw, "FASTRTPS_DEFAULT_PROFILES_FILE": "/etc/x.xml"},
        str(mine),
        LAUNCH / "driver.launch.py",
    )
    assert chosen.variables == {"FASTRTPS_DEFAULT_PROFILES_FILE": str(mine)}


def test_fast_dds_with_a_localhost_discovery_range_gets_a_note(driver_launch):
    done = settings(
        driver_launch,
        RMW_IMPLEMENTATION="rmw_fastrtps_cpp",
        ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
    )
    assert done.variables == {"FASTRTPS_DEFAULT_PROFILES_FILE": str(FASTDDS_PROFILE)}
    assert any("LOCALHOST" in note for note in done.notes)
    old_style = settings(
        driver_launch, RMW_IMPLEMENTATION="rmw_fastrtps_cpp", ROS_LOCALHOST_ONLY="1"
    )
    assert any("LOCALHOST" in note for note in old_style.notes)
    cyclone = settings(
        driver_launch,
        RMW_IMPLEMENTATION="rmw_cyclonedds_cpp",
        ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
    )
    assert cyclone.notes == []


def test_without_rmw_implementation_both_default_candidates_get_theirs(driver_launch):
    """Humble's and Jazzy's default is Fast DDS; Cyclone DDS reads only its own variable."""
    done = settings(driver_launch)
    assert done.variables == {
        "FASTRTPS_DEFAULT_PROFILES_FILE": str(FASTDDS_PROFILE),
        "CYCLONEDDS_URI": CYCLONE_PROFILE.as_uri(),
    }


def test_another_middleware_gets_no_profile_but_a_note(driver_launch, tmp_path):
    done = settings(driver_launch, RMW_IMPLEMENTATION="rmw_connextdds")
    assert done.variables == {} and "rmw_connextdds" in done.notes[0]
    mine = tmp_path / "mine.xml"
    mine.write_text("<CycloneDDS/>")
    with pytest.raises(ValueError, match="rmw_connextdds"):
        settings(driver_launch, str(mine), RMW_IMPLEMENTATION="rmw_connextdds")


def test_none_or_empty_leaves_the_environment(driver_launch):
    for profile in ("none", "None", "", "  "):
        assert settings(driver_launch, profile, RMW_IMPLEMENTATION="rmw_fastrtps_cpp") == (
            {},
            [],
        )


def test_a_profile_path_must_exist_and_suit_the_middleware(driver_launch, tmp_path):
    with pytest.raises(FileNotFoundError, match="large_images"):
        settings(driver_launch, str(tmp_path / "missing.xml"))
    cyclone_file = tmp_path / "cyclone.xml"
    cyclone_file.write_text('<CycloneDDS xmlns="https://cdds.io/config"/>')
    with pytest.raises(ValueError, match="cyclonedds profile but the middleware is rmw_fastrtps"):
        settings(driver_launch, str(cyclone_file), RMW_IMPLEMENTATION="rmw_fastrtps_cpp")
    other = tmp_path / "other.xml"
    other.write_text("<launch/>")
    with pytest.raises(ValueError, match="root element is <launch>"):
        settings(driver_launch, str(other))
    broken = tmp_path / "broken.xml"
    broken.write_text("<dds")
    with pytest.raises(ValueError, match="not an XML file"):
        settings(driver_launch, str(broken))


def test_every_named_profile_has_a_file_for_each_middleware(driver_launch):
    for profile, files in driver_launch.DDS_PROFILES.items():
        assert set(files) == set(driver_launch.MIDDLEWARES.values()), profile
        for middleware, name in files.items():
            path = ROS_PACKAGE / "config" / name
            assert driver_launch.profile_middleware(path) == middleware, name


def test_the_shipped_dds_profile_is_cyclone_xml_for_large_frames():
    import xml.etree.ElementTree as ET

    root = ET.parse(CYCLONE_PROFILE).getroot()
    ns = {"c": "https://cdds.io/config"}
    assert root.tag == "{https://cdds.io/config}CycloneDDS"
    receive = root.find("c:Domain/c:Internal/c:SocketReceiveBufferSize", ns)
    assert receive is not None and receive.get("min") == "default", "never fail to start"
    assert root.find("c:Domain/c:General/c:MaxMessageSize", ns) is not None


def test_the_fast_dds_profile_carries_frames_through_shared_memory():
    """A default participant profile: its own SHM transport (a segment for several 7 MB
    frames) and UDPv4 (discovery and other hosts), the builtin transports off."""
    import xml.etree.ElementTree as ET

    ns = {"f": "http://www.eprosima.com/XMLSchemas/fastRTPS_Profiles"}
    root = ET.parse(FASTDDS_PROFILE).getroot()
    assert root.tag == f"{{{ns['f']}}}dds"
    descriptors = {
        d.findtext("f:transport_id", namespaces=ns): d
        for d in root.findall("f:profiles/f:transport_descriptors/f:transport_descriptor", ns)
    }
    kinds = {name: d.findtext("f:type", namespaces=ns) for name, d in descriptors.items()}
    assert sorted(kinds.values()) == ["SHM", "UDPv4"]
    (shm,) = [d for d in descriptors.values() if d.findtext("f:type", namespaces=ns) == "SHM"]
    frame = 1208 * 1920 * 3
    assert int(shm.findtext("f:segment_size", namespaces=ns)) >= 4 * frame
    (participant,) = root.findall("f:profiles/f:participant", ns)
    assert participant.get("is_default_profile") == "true", "rmw_fastrtps loads the default"
    rtps = participant.find("f:rtps", ns)
    assert rtps.findtext("f:useBuiltinTransports", namespaces=ns) == "false"
    used = [t.text for t in rtps.findall("f:userTransports/f:transport_id", ns)]
    assert sorted(used) == sorted(descriptors)


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

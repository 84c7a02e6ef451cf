"""``ros2 launch`` of launch/driver.launch.py on a real ROS 2 (the package built and sourced).

Run by tests/ros2/test_ros2_real.py, which builds ncp_driver_ros and puts it on the paths.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ros2_peer import MODEL, REPO, Peer, profile_variables

LAUNCH = REPO / "launch" / "driver.launch.py"


def _ros2(*args: str) -> list[str]:
    """``ros2 ...`` run by this Python (the one with ncp_driver: replay.launch.py imports it).
    ``ros2`` from PATH, else from the ament prefixes (a venv activated twice drops PATH entries)."""
    ros2 = shutil.which("ros2")
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        if ros2 is None and prefix and (Path(prefix) / "bin" / "ros2").is_file():
            ros2 = str(Path(prefix) / "bin" / "ros2")
    assert ros2 is not None, f"no ros2 on PATH nor in AMENT_PREFIX_PATH: {os.environ.get('PATH')}"
    return [sys.executable, ros2, *args]


def _launch(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        _ros2("launch", str(LAUNCH), *args),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip


def _without_the_profile() -> dict[str, str]:
    """This process's environment without the large-image profile the runner applied to it, so
    that the launch file itself must apply it to the driver."""
    env = dict(os.environ)
    env.pop("FASTRTPS_DEFAULT_PROFILES_FILE", None)
    uris = [u for u in env.pop("CYCLONEDDS_URI", "").split(",") if u and "large_images" not in u]
    if uris:
        env["CYCLONEDDS_URI"] = ",".join(uris)
    return env


def _child_environment(parent: int, marker: str) -> dict[str, str]:
    """The environment of ``parent``'s child process whose command line holds ``marker``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            ppid = int(next(x for x in status.splitlines() if x.startswith("PPid:")).split()[1])
            if ppid == parent and marker in cmdline:
                raw = (entry / "environ").read_bytes().split(b"\0")
                return dict(item.decode().split("=", 1) for item in raw if b"=" in item)
        except (OSError, StopIteration, ValueError):
            continue
    raise AssertionError(f"no child of {parent} runs {marker}")


def test_a_driver_that_cannot_start_fails_the_launch():
    process = _launch("model:=/nonexistent/ncp_driver/model.onnx")
    output, _ = process.communicate(timeout=120)
    assert process.returncode != 0, output
    assert "cannot load the model" in output and "exited with code 1" in output, output


def test_a_missing_dds_profile_fails_the_launch():
    process = _launch(f"model:={MODEL}", "dds_profile:=/nonexistent/profile.xml")
    output, _ = process.communicate(timeout=120)
    assert process.returncode != 0 and "dds_profile" in output, output


def test_a_running_launch_applies_the_dds_profile_and_ends_with_0_on_ctrl_c():
    peer = Peer("ncp_driver_launch_peer")
    launch_env = _without_the_profile()
    expected = profile_variables(launch_env)
    assert expected, "large_images has a profile for this middleware"
    process = _launch(f"model:={MODEL}", env=launch_env)
    try:
        end = time.monotonic() + 60
        up = False
        while time.monotonic() < end and process.poll() is None and not up:
            up = peer.spin_until(peer.reset.service_is_ready, timeout=1.0)
        assert up, "the launched driver never offered its reset service"
        child = _child_environment(process.pid, "ncp_driver_ros")
        for name, setting in expected.items():  # the profile for RMW_IMPLEMENTATION's DDS
            assert child.get(name) == setting, f"{name} not applied: {child.get(name)!r}"
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        peer.close()
    assert process.returncode == 0, output
    assert "Traceback" not in output, output
    for name, setting in expected.items():
        assert f"dds_profile: {name}={setting}" in output, output  # what the launch set, logged


@pytest.mark.skipif(
    importlib.util.find_spec("ros2bag") is None, reason="rosbag2 (ros2 bag) is not installed"
)
def test_replay_launch_plays_a_bag_through_the_node_and_records_its_commands(tmp_path):
    """replay.launch.py with rosbag2: a synthetic bag played (serialized frames on the wire, the
    node on the bag's clock), the commands recorded into a new bag."""
    from ncp_driver.bags import Recording

    bag = tmp_path / "drive"
    made = subprocess.run(
        [
            sys.executable, "-m", "ncp_driver.synth.cli", "--out", str(bag),
            "--format", "ros2-sqlite3", "--duration", "4", "--size", "120x192",
            "--camera-hz", "15", "--takeovers", "0", "--no-progress",
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    output = tmp_path / "replayed"
    process = subprocess.Popen(
        _ros2(
            "launch", str(REPO / "launch" / "replay.launch.py"), f"bag:={bag}",
            f"model:={MODEL}", f"output:={output}", "delay_s:=2.0", "linger_s:=1.5",
        ),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 0, out
    with Recording([output]) as recording:
        commands = list(recording.messages(["/ncp/steering_cmd"]))
    assert len(commands) >= 40, f"{len(commands)} commands for 60 frames\n{out[-3000:]}"

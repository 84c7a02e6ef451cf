"""The driver node in its own process on a real ROS 2, talking to a real rclpy peer over DDS.

Run by tests/ros2/test_ros2_real.py (a sourced ROS 2; skipped otherwise). Checks behaviour,
never timing: counts are lower bounds that allow for DDS losing a full-size best-effort frame.
"""

from __future__ import annotations

import math
import time

import pytest
from diagnostic_msgs.msg import DiagnosticStatus
from ros2_peer import (
    FULL,
    SMALL,
    Peer,
    jpeg_frame,
    minor_faults,
    raw_frame,
    start_driver,
    stop,
    value,
)
from std_msgs.msg import Bool

OK, ERROR = DiagnosticStatus.OK, DiagnosticStatus.ERROR


@pytest.fixture(scope="module")
def peer():
    peer = Peer()
    yield peer
    peer.close()


@pytest.fixture(scope="module")
def driver(peer):
    """One raw-transport driver for the module's driving tests. Its latency and drop warnings
    are set wide: this machine is shared, and a load spike is not what these tests look for."""
    process = start_driver("warn_latency_p99_ms:=2000.0", "warn_drop_ratio:=0.5")
    peer.wait_for_driver(process)
    yield process
    code, output = stop(process)
    assert code == 0, output
    assert "Traceback" not in output, output


def _fresh(peer: Peer) -> None:
    peer.commands.clear()
    peer.diagnostics.clear()


def test_small_raw_frames_give_commands_and_diagnostics_stay_ok(peer, driver):
    _fresh(peer)
    stamps = peer.drive(raw_frame(*SMALL), 90)  # 3 s at 30 Hz with the auto flag
    peer.spin_for(0.3)
    got = peer.command_stamps()
    assert len(got) >= 60, f"{len(got)} commands for 90 small frames"  # a loaded machine drops
    assert set(got) <= set(stamps) and got == sorted(got), "each command carries its frame's stamp"
    assert all(math.isfinite(c.drive.steering_angle) for c in peer.commands)
    driving = [s for s in peer.diagnostics if value(s, "frames_in") != "0"][1:]
    assert len(driving) >= 4, "diagnostics come every 0.25 s"
    assert all(s.level == OK for s in driving), [s.message for s in driving if s.level != OK]
    assert all(value(s, "internal_errors") == "0" for s in driving)
    assert value(driving[-1], "autonomous") == "true"


def test_full_size_raw_frames_give_commands(peer, driver):
    # The driver locked the small frames' size: a stream of another size is refused until the
    # user's state reset releases the lock (a camera does not change its size mid-drive).
    _fresh(peer)
    peer.drive(raw_frame(*FULL), 10)
    peer.spin_for(0.5)
    assert peer.command_stamps() == [], "a frame of another size than the locked one is refused"
    assert peer.call_reset().success
    _fresh(peer)
    faults = minor_faults(driver.pid)
    stamps = peer.drive(raw_frame(*FULL), 30)  # 1920 x 1208 rgb8, 7 MB each
    peer.spin_for(0.5)
    faults = minor_faults(driver.pid) - faults
    got = peer.command_stamps()
    assert len(got) >= 10, f"only {len(got)} commands for 30 full-size frames"
    assert set(got) <= set(stamps) and got == sorted(got)
    # The node keeps its freed frame buffers (ncp_driver_ros.allocator): without that each
    # frame faulted its three 7 MB buffers in anew, about 5000 pages (a count, not a time).
    pages = FULL[0] * FULL[1] * 3 // 4096
    assert faults / len(got) < pages / 2, f"{faults / len(got):.0f} page faults per frame"
    assert peer.call_reset().success  # release the lock for the small frames of the next tests


def test_the_watchdog_stops_commands_and_says_error(peer, driver):
    _fresh(peer)
    peer.drive(raw_frame(*SMALL), 30)
    peer.spin_for(0.5)  # the last frames' commands
    count = len(peer.commands)
    assert count > 0, "commands while the camera runs"
    peer.diagnostics.clear()
    for _ in range(30):  # the camera stops; the flag goes on
        peer.auto.publish(Bool(data=True))
        peer.spin_for(1.0 / 30.0)
    assert len(peer.commands) == count, "no command without a frame"
    assert any(s.level == ERROR and "watchdog" in s.message for s in peer.diagnostics)


def test_a_silent_auto_flag_means_manual_and_error(peer, driver):
    _fresh(peer)
    peer.drive(raw_frame(*SMALL), 15)
    peer.drive(raw_frame(*SMALL), 45, auto=None)  # the flag's publisher is gone: 1.5 s
    silent = [s for s in peer.diagnostics if "manual assumed" in s.message]
    assert silent and all(s.level == ERROR for s in silent)
    assert value(silent[-1], "autonomous") == "false" and value(silent[-1], "auto_mode") == "silent"


def test_the_reset_service_answers(peer, driver):
    response = peer.call_reset()
    assert response is not None and response.success and "reset" in response.message


def test_jpeg_frames_give_commands():
    peer = Peer("ncp_driver_real_test_jpeg")
    process = start_driver(transport="compressed")
    try:
        peer.wait_for_driver(process, compressed=True)
        stamps = peer.drive(jpeg_frame(), 45, compressed=True)
        peer.spin_for(0.3)
        got = peer.command_stamps()
        assert len(got) >= 30, f"{len(got)} commands for 45 JPEG frames"
        assert set(got) <= set(stamps)
    finally:
        code, output = stop(process)
        peer.close()
    assert code == 0 and "Traceback" not in output, output


def _wait_until_python_catches_sigint(pid: int) -> None:
    """Until the interpreter has installed its SIGINT handler (bit 2 of SigCgt). Before that,
    and while the interpreter imports ``site`` (a few ms, longer on a loaded machine), a Ctrl-C
    is Python's own to handle: no program code has run yet. The delays start after it."""
    end = time.monotonic() + 30.0
    while time.monotonic() < end:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            caught = next(line for line in status if line.startswith("SigCgt:"))
        if int(caught.split()[1], 16) & (1 << (2 - 1)):
            return
        time.sleep(0.002)
    raise AssertionError("the driver's Python never installed its SIGINT handler")


@pytest.mark.parametrize("delay", [0.3, 0.6, 1.0])
def test_ctrl_c_while_starting_exits_0_without_a_traceback(delay):
    """Ctrl-C while Python imports rclpy and the pipeline, or while the model loads."""
    process = start_driver(name="ncp_driver_early_ctrl_c")
    _wait_until_python_catches_sigint(process.pid)
    time.sleep(delay)
    code, output = stop(process)
    assert code == 0, output
    assert "Traceback" not in output, output


@pytest.mark.parametrize("attempt", range(3))
def test_ctrl_c_exits_0_without_a_traceback(peer, attempt):
    name = f"ncp_driver_ctrl_c_{attempt}"
    process = start_driver(name=name)
    peer.wait_for_driver(process, name=name)
    if attempt:  # also while frames are coming in
        peer.drive(raw_frame(*SMALL), 5 * attempt)
    code, output = stop(process)
    assert code == 0, output
    assert "Traceback" not in output and "RCLError" not in output, output


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("providers:=[]", "'providers'"),
        ("frame_id:=[]", "'frame_id'"),
        ("publish_neurons:=[]", "'publish_neurons'"),
        ("wheelbase_m:=[]", "'wheelbase_m'"),
        ("wheelbase_m:=3", "wheelbase_m"),  # an integer for a double
        ("auto_mode_timeout_s:=0.0", "auto_mode_timeout_s"),
    ],
)
def test_bad_parameters_stop_the_node_at_start_naming_them(override, named):
    process = start_driver(override)
    output, _ = process.communicate(timeout=60.0)
    assert process.returncode == 1, output
    assert "cannot start" in output and named in output, output
    assert "Traceback" not in output, output

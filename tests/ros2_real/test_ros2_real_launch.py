"""``ros2 launch`` of launch/driver.launch.py on a real ROS 2 (the package built and sourced).

Run by tests/ros2/test_ros2_real.py, which builds ncp_driver_ros and puts it on the paths.
"""

from __future__ import annotations

import signal
import subprocess
import time

from ros2_peer import MODEL, REPO, Peer

LAUNCH = REPO / "launch" / "driver.launch.py"


def _launch(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["ros2", "launch", str(LAUNCH), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def test_a_driver_that_cannot_start_fails_the_launch():
    process = _launch("model:=/nonexistent/ncp_driver/model.onnx")
    output, _ = process.communicate(timeout=120)
    assert process.returncode != 0, output
    assert "cannot load the model" in output and "exited with code 1" in output, output


def test_a_missing_dds_profile_fails_the_launch():
    process = _launch(f"model:={MODEL}", "dds_profile:=/nonexistent/profile.xml")
    output, _ = process.communicate(timeout=120)
    assert process.returncode != 0 and "dds_profile" in output, output


def test_ctrl_c_ends_a_running_launch_with_0():
    peer = Peer("ncp_driver_launch_peer")
    process = _launch(f"model:={MODEL}")
    try:
        end = time.monotonic() + 60
        up = False
        while time.monotonic() < end and process.poll() is None and not up:
            up = peer.spin_until(peer.reset.service_is_ready, timeout=1.0)
        assert up, "the launched driver never offered its reset service"
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        peer.close()
    assert process.returncode == 0, output
    assert "Traceback" not in output, output

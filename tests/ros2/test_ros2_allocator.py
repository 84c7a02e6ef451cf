"""The node's malloc settings (ncp_driver_ros.allocator): freed frame buffers are kept.

The page-fault test runs the pattern a full-size raw frame follows in the node (a sample made
on the DDS's thread, copied twice on the callback's, all freed) in a fresh Python process, with
and without the settings, and counts minor page faults per frame (counts, not timings).
"""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap

import pytest
from ncp_driver_ros import allocator
from ros2_rig import ROS_PACKAGE

FRAME = 1208 * 1920 * 3
PAGES = FRAME // 4096

PATTERN = textwrap.dedent(
    f"""
    import queue, resource, sys, threading
    sys.path.insert(0, {str(ROS_PACKAGE)!r})
    if sys.argv[1] == "keep":
        from ncp_driver_ros.allocator import keep_freed_memory
        print(keep_freed_memory(), file=sys.stderr)
    def faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    src = bytearray({FRAME})
    samples = queue.Queue(maxsize=1)
    def dds():  # the middleware's thread: one sample per frame
        for _ in range(30):
            samples.put(bytes(src))
        samples.put(None)
    thread = threading.Thread(target=dds)
    thread.start()
    counts = []
    while (sample := samples.get()) is not None:
        before = faults()
        serialized = bytes(sample)         # rmw's serialized message
        callback = bytes(serialized[:1]) + bytes(serialized[1:])  # the bytes rclpy hands over
        del sample, serialized, callback
        counts.append(faults() - before)
    thread.join()
    print(sum(counts[5:]) / len(counts[5:]))
    """
)


def _faults_per_frame(mode: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", PATTERN, mode], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return float(done.stdout.strip())


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_frame_buffers_are_reused_instead_of_faulted_in_again():
    without = _faults_per_frame("default")
    kept = _faults_per_frame("keep")
    assert without > PAGES / 2, f"the pattern no longer faults here ({without:.0f} per frame)"
    assert kept < PAGES / 20, f"{kept:.0f} page faults per frame with the settings"


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_the_real_libc_takes_the_settings():
    assert allocator.keep_freed_memory().startswith("malloc: blocks below 32 MiB")


class FakeLibc:
    def __init__(self, answer: int) -> None:
        self.answer = answer
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, option: int, value: int) -> int:
        self.calls.append((option, value))
        return self.answer


def test_the_thresholds_set():
    libc = FakeLibc(1)
    message = allocator.keep_freed_memory(libc)
    assert libc.calls == [
        (allocator.M_MMAP_THRESHOLD, 32 * 1024 * 1024),
        (allocator.M_TRIM_THRESHOLD, 256 * 1024 * 1024),
    ]
    assert "32 MiB" in message and "256 MiB" in message


def test_a_refusal_or_another_libc_is_said_not_raised():
    assert "refused" in allocator.keep_freed_memory(FakeLibc(0))
    assert "no glibc mallopt" in allocator.keep_freed_memory(object())


def test_main_applies_them_before_the_node_is_made(ros, driver_module, tiny_model, monkeypatch):
    """Inside main's Ctrl-C guard (a Ctrl-C there exits 0 too), before the model and DDS."""
    order: list[str] = []
    monkeypatch.setattr(driver_module, "keep_freed_memory", lambda: order.append("malloc") or "m")
    node_class = driver_module.DriverNode

    def made() -> object:
        order.append("node")
        return node_class()

    monkeypatch.setattr(driver_module, "DriverNode", made)

    def ctrl_c() -> None:
        raise KeyboardInterrupt

    ros.context.on_idle = ctrl_c
    assert driver_module.main(["driver", "--ros-args", "-p", f"model_path:={tiny_model}"]) == 0
    assert order == ["malloc", "node"]


def test_a_ctrl_c_while_they_are_applied_exits_0(ros, driver_module, monkeypatch):
    def interrupted() -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(driver_module, "keep_freed_memory", interrupted)
    assert driver_module.main(["driver"]) == 0

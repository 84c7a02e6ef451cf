"""The real-ROS 2 tests, run in their own pytest processes whenever ROS 2 is sourced.

Without a ROS 2 installation (neither ``ROS_DISTRO`` nor ``AMENT_PREFIX_PATH`` set, or no
rclpy / launch_testing on the path)
each is skipped with that reason. With one, this module builds ``ncp_driver_ros`` with colcon
into a temporary prefix and runs, each in a fresh ``python -m pytest`` with that prefix on the
ament and Python paths and a DDS domain of its own:

- ``tests/ros2/test_ros2_launch_files.py`` again, now with ``ncp_driver_ros`` installed and
  sourced (its results must not depend on that);
- the package's launch_testing files (``ros2_ws/src/ncp_driver_ros/test``), as ``colcon test``
  runs them;
- ``tests/ros2_real``: the node in its own process against a real rclpy peer (raw full-size,
  raw small and JPEG frames, the auto flag, watchdog, reset service, diagnostics, Ctrl-C, bad
  parameters), ``ros2 launch`` of the driver launch file, and the facts about rclpy that the
  stand-in mirrors, asserted of the real rclpy.

A separate process because this one holds the rclpy stand-in: the real rclpy must never be
imported next to it (the stand-in refuses to shadow it, and the other way round).
"""

from __future__ import annotations

import importlib.util
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ros2_rig import ROS_PACKAGE

REPO = ROS_PACKAGE.parents[2]
REAL_TESTS = [
    REPO / "tests" / "ros2" / "test_ros2_launch_files.py",  # with the package installed
    ROS_PACKAGE / "test" / "test_ros2_driver_launch.py",
    ROS_PACKAGE / "test" / "test_ros2_driver_bad_model_launch.py",
    REPO / "tests" / "ros2_real" / "test_ros2_real_node.py",
    REPO / "tests" / "ros2_real" / "test_ros2_real_launch.py",
    REPO / "tests" / "ros2_real" / "test_ros2_real_rclpy_facts.py",
]


def ros2_missing() -> str | None:
    """Why the real-ROS 2 tests cannot run here (None when they can)."""
    if not (os.environ.get("ROS_DISTRO") or os.environ.get("AMENT_PREFIX_PATH")):
        return (
            "no ROS 2 installation is sourced (neither ROS_DISTRO nor AMENT_PREFIX_PATH is set): "
            "source one (e.g. /opt/ros/jazzy/setup.bash) to run them"
        )
    for module in ("rclpy", "launch_testing", "launch_ros"):
        if importlib.util.find_spec(module) is None:
            return f"a ROS 2 installation is sourced but {module} is not importable"
    if shutil.which("colcon") is None:
        return "colcon is not installed (pip install colcon-core colcon-ros): it builds the package"
    return None


@pytest.fixture(scope="module")
def ros2_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a real-ROS 2 test process: the package built, a DDS domain of its own."""
    reason = ros2_missing()
    if reason is not None:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("colcon")
    done = subprocess.run(
        [
            "colcon", "--log-base", str(base / "log"), "build",
            "--build-base", str(base / "build"), "--install-base", str(base / "install"),
        ],
        cwd=REPO / "ros2_ws", capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    prefix = base / "install" / "ncp_driver_ros"
    (site,) = prefix.glob("lib/python*/site-packages")
    env = dict(os.environ)
    env["AMENT_PREFIX_PATH"] = f"{prefix}{os.pathsep}{env.get('AMENT_PREFIX_PATH', '')}"
    env["PYTHONPATH"] = f"{site}{os.pathsep}{env.get('PYTHONPATH', '')}"
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["ROS_DOMAIN_ID"] = str(random.Random(os.getpid()).randint(101, 200))
    env["ROS_LOG_DIR"] = str(base / "ros_log")
    env["NCP_REAL_ROS2"] = "1"
    return large_image_settings(env)


def large_image_settings(env: dict[str, str]) -> dict[str, str]:
    """``env`` with the large-image DDS profile applied as driver.launch.py applies it, for the
    test's own camera as much as for the driver (a Fast DDS writer's shared-memory segment is
    its own). Fast DDS's profile needs a discovery range other than LOCALHOST
    (docs/ros2.md): LOCALHOST becomes SUBNET there, as in benchmarks/ros2_benchmark.py."""
    spec = importlib.util.spec_from_file_location(
        "ncp_launch_driver", REPO / "launch" / "driver.launch.py"
    )
    assert spec is not None and spec.loader is not None
    launch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launch)
    env = dict(env)
    fastdds = (
        launch.MIDDLEWARES.get(env.get("RMW_IMPLEMENTATION", ""), launch.FASTDDS) == launch.FASTDDS
    )
    if fastdds and env.get("ROS_AUTOMATIC_DISCOVERY_RANGE", "").upper() == "LOCALHOST":
        env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "SUBNET"
    env.update(
        launch.dds_settings(env, "large_images", REPO / "launch" / "driver.launch.py").variables
    )
    return env


@pytest.mark.slow
@pytest.mark.parametrize("path", REAL_TESTS, ids=[p.name for p in REAL_TESTS])
def test_on_real_ros2(ros2_env, path):
    command = [
        sys.executable, "-m", "pytest", str(path), "-q", "-rA", "-p", "no:cacheprovider",
        "-o", "addopts=",  # the project's addopts keep the launch_testing plugins off
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=REPO, env=ros2_env, capture_output=True, text=True, timeout=600
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert " passed" in output and "skipped" not in output.split("short test summary")[-1], output[
        -3000:
    ]

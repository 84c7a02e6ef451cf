"""Fixtures of the ROS 2 tests: the rclpy stand-in, the tiny contract model, and a test rig.

The node package (ros2_ws/src/ncp_driver_ros) is not installed in the development venv; its
folder goes on sys.path here. Nothing here imports rclpy outside the stand-in's blocks.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROS_PACKAGE = Path(__file__).resolve().parents[2] / "ros2_ws" / "src" / "ncp_driver_ros"
if str(ROS_PACKAGE) not in sys.path:
    sys.path.insert(0, str(ROS_PACKAGE))

from rclpy_standin import StandIn, api, installed  # noqa: E402
from ros2_rig import Rig  # noqa: E402
from ros2_tiny_model import write_tiny_model  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny contract-following model (see ros2_tiny_model.py), written once."""
    return write_tiny_model(tmp_path_factory.mktemp("model") / "tiny_steering.onnx")


@pytest.fixture(scope="module")
def standin_modules() -> Iterator[StandIn]:
    """The stand-in's modules in sys.modules for one test module (the node imported under it)."""
    with installed(purge=("ncp_driver_ros.driver_node",)) as ros:
        yield ros


@pytest.fixture
def ros(standin_modules: StandIn) -> Iterator[StandIn]:
    """A fresh default context (time 0, no nodes) for each test."""
    api.reset(standin_modules.messages)
    yield standin_modules
    api.try_shutdown()


@pytest.fixture
def driver_module(ros: StandIn) -> ModuleType:
    """ncp_driver_ros.driver_node, imported against the stand-in."""
    return importlib.import_module("ncp_driver_ros.driver_node")


@pytest.fixture
def rig(ros: StandIn, driver_module: ModuleType, tiny_model: Path) -> Rig:
    """A test rig: the driver node built from parameters, plus a node playing camera and car."""
    return Rig(ros, driver_module, tiny_model)

"""Fixtures of the replay tests: one exported NCP and one synthetic drive per test session."""

from __future__ import annotations

from pathlib import Path

import pytest
from replay_helpers import CAMERA_HZ, DRIVE

from ncp_driver.synth import Drive, simulate_drive, write_ros1_bag, write_ros2_bag


@pytest.fixture(scope="session")
def replay_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The paper's NCP (conv head + 19-neuron LTC), untrained, exported by the project's exporter.

    Its readout gain is set to 1000 (``init_readout_from_labels``), the spread of trained labels:
    with the paper's initial gain of 1 an untrained model outputs about 5e-5 1/m, too little for
    a 1e-5 tolerance on curvature to tell two runs apart. Exported once per session (~10 s).
    """
    torch = pytest.importorskip("torch")
    from ncp_driver.export import export_onnx
    from ncp_driver.training.cells import init_readout_from_labels
    from ncp_driver.training.networks import build_model

    torch.set_num_threads(1)
    model = build_model("ncp", seed=7, frame_period_s=1.0 / CAMERA_HZ)
    init_readout_from_labels(model.cell, 0.0, 1000.0)
    path = tmp_path_factory.mktemp("replay_model") / "ncp.onnx"
    export_onnx(model.eval(), path, check=False)
    return path


@pytest.fixture(scope="session")
def drive() -> Drive:
    return simulate_drive(DRIVE)


@pytest.fixture(scope="session")
def ros2_bag(drive: Drive, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The drive as a ROS 2 sqlite3 bag: raw rgb8 Image, flag, steering, GPS."""
    return write_ros2_bag(drive, tmp_path_factory.mktemp("ros2") / "drive").path


@pytest.fixture(scope="session")
def ros1_bag(drive: Drive, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same drive as a ROS 1 bag (Noetic definitions), bgr8 frames."""
    path = tmp_path_factory.mktemp("ros1") / "drive.bag"
    return write_ros1_bag(drive, path, encoding="bgr8").path

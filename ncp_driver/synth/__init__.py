"""Synthetic drives with no private data: a road seen from a car, the curvature driven, speed,
GPS and an auto-mode flag with takeovers at known times, written as ROS 2 / ROS 1 bags or as
HDF5 in the paper's layout. See docs/synth.md.

Simulation (:func:`simulate_drive`) is separate from rendering (:class:`Renderer`,
:func:`render_frame`) and from writing (:func:`write_ros2_bag`, :func:`write_ros1_bag`,
:func:`write_training_h5`), which render frame by frame; recovery views of a drive
(:func:`write_recovery_h5`) render it from displaced poses. Needs the ``bags`` extra (rosbags,
h5py, tqdm) for writing only.
"""

from __future__ import annotations

from ncp_driver.synth.config import START_EPOCH_S, DriveConfig
from ncp_driver.synth.errors import SynthError
from ncp_driver.synth.recovery import (
    RecoveryView,
    recovery_curvature,
    recovery_pose,
    recovery_views,
    write_recovery_h5,
)
from ncp_driver.synth.render import Renderer, render_frame
from ncp_driver.synth.simulate import Drive, GpsTrack, ModeTrack, Trajectory, simulate_drive
from ncp_driver.synth.writers import (
    ROS2_STORAGES,
    Written,
    write_ros1_bag,
    write_ros2_bag,
    write_training_h5,
)

__all__ = [
    "ROS2_STORAGES",
    "START_EPOCH_S",
    "Drive",
    "DriveConfig",
    "GpsTrack",
    "ModeTrack",
    "RecoveryView",
    "Renderer",
    "SynthError",
    "Trajectory",
    "Written",
    "recovery_curvature",
    "recovery_pose",
    "recovery_views",
    "render_frame",
    "simulate_drive",
    "write_recovery_h5",
    "write_ros1_bag",
    "write_ros2_bag",
    "write_training_h5",
]

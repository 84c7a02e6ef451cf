"""The human's curvature is one definition: the training set's label is what the replay scores.

A model is trained on ``ncp-bag trainset``'s labels and judged by ``ncp-replay`` against the
human's curvature, so the two must read a recorded steering message the same way: the same
angle (the front-wheel angle of AckermannDrive, or a steering-wheel angle divided by the
steering ratio, said explicitly), the same bicycle model and the same frame-to-sample skew.
Before, the replay divided by the pipeline's steering ratio and the builder did not, and they
matched with different skews (0.1 s and 0.05 s): on a car with a ratio of 15 the replay scored
the model against a curvature 15 times smaller than it was trained on.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from replay_helpers import CAMERA, STEERING, copy_bag

from ncp_driver.bags import Recording
from ncp_driver.bags.cli import main as bag_main
from ncp_driver.drives import INVERSE_R, TIMESTAMP
from ncp_driver.replay import ReplaySettings, replay
from ncp_driver.runtime import PipelineConfig

RATIO = 15.0
WHEELBASE_M = 2.7  # the synthetic car's


def steering_wheel_bag(source: Path, target: Path) -> Path:
    """The drive as a car that records its steering-wheel angle (front-wheel angle x 15)."""

    def edit(_: int, topic: str, message: Any) -> Any:
        if topic != STEERING:
            return None
        drive = message.drive
        wheel = dataclasses.replace(drive, steering_angle=drive.steering_angle * RATIO)
        return dataclasses.replace(message, drive=wheel)

    return copy_bag(source, target, edit=edit)


def trainset_labels(bag: Path, out: Path, *extra: str) -> tuple[np.ndarray, np.ndarray]:
    """``ncp-bag trainset --label steering``: the frames' record times (s) and inverse_r."""
    args = ["trainset", str(bag), "-o", str(out), "--wheelbase", str(WHEELBASE_M)]
    code = bag_main([*args, "--min-speed", "0", "--full-frames", "--no-progress", *extra])
    assert code == 0
    with h5py.File(out, "r") as f:
        return np.asarray(f[TIMESTAMP]), np.asarray(f[INVERSE_R]).reshape(-1)


def replay_labels(bag: Path, model: Path, ratio: float | None) -> tuple[np.ndarray, np.ndarray]:
    """The replay's frames' record times (s) and the human's curvature at each."""
    settings = ReplaySettings(
        model=model,
        pipeline=PipelineConfig(wheelbase_m=WHEELBASE_M),
        steering_wheel_ratio=ratio,
    )
    result = replay([bag], settings)
    return result.clean.bag_time, result.human_curvature


def test_a_steering_ratio_of_15_gives_the_same_human_curvature_in_training_and_replay(
    ros2_bag: Path, replay_model: Path, tmp_path: Path
) -> None:
    wheel_bag = steering_wheel_bag(ros2_bag, tmp_path / "wheel")
    t_trained, trained = trainset_labels(
        wheel_bag, tmp_path / "wheel.h5", "--steering-wheel-ratio", "15"
    )
    t_scored, scored = replay_labels(wheel_bag, replay_model, RATIO)

    # Every frame has a label on both sides, and it is the same number (the drive file stores
    # float32).
    with Recording([wheel_bag]) as recording:
        frames = recording.count([CAMERA])
    assert trained.size == scored.size == frames
    np.testing.assert_allclose(t_scored, t_trained, rtol=0, atol=1e-6)
    assert np.isfinite(scored).all()
    np.testing.assert_array_equal(scored.astype(np.float32), trained)

    # And it is the curvature the car drove: the front-wheel bag's, read without a ratio.
    _, front = trainset_labels(ros2_bag, tmp_path / "front.h5")
    np.testing.assert_allclose(trained, front, rtol=1e-6, atol=1e-9)
    assert np.abs(front).max() > 0.01, "the drive should turn"
    _, front_scored = replay_labels(ros2_bag, replay_model, None)
    np.testing.assert_array_equal(front_scored.astype(np.float32), front)


def test_the_recorded_angle_is_the_front_wheel_angle_unless_a_ratio_is_given(
    ros2_bag: Path, tmp_path: Path
) -> None:
    """Without the option a steering-wheel angle is read as a front-wheel angle (tan of 15
    times the angle): the ratio is never taken from anywhere implicit."""
    wheel_bag = steering_wheel_bag(ros2_bag, tmp_path / "wheel")
    _, front = trainset_labels(ros2_bag, tmp_path / "front.h5")
    _, unscaled = trainset_labels(wheel_bag, tmp_path / "wheel.h5")
    angle = np.arctan(WHEELBASE_M * front) * RATIO
    np.testing.assert_allclose(unscaled, np.tan(angle) / WHEELBASE_M, rtol=1e-4, atol=1e-7)


def test_the_lateral_acceleration_limit_sees_the_speed_the_node_would(
    ros2_bag: Path, replay_model: Path, tmp_path: Path
) -> None:
    """The replay's speed is the car's rule (runtime.speed) over record times: the latest
    steering message's |drive.speed| for speed_timeout_s; without one the limit refuses, as the
    node refuses max_lateral_accel without a speed_topic."""
    from ncp_driver.replay.errors import ReplaySettingsError
    from ncp_driver.runtime.speed import speeds_at

    config = PipelineConfig(max_lateral_accel=0.5, speed_timeout_s=0.02)
    result = replay([ros2_bag], ReplaySettings(model=replay_model, pipeline=config))
    with Recording([ros2_bag]) as recording:
        steering = [(m.stamp_ns, m.message.drive.speed) for m in recording.messages([STEERING])]
    received = np.array([ns for ns, _ in steering]) * 1e-9
    expected = speeds_at(received, np.abs([v for _, v in steering]), result.clean.bag_time, 0.02)
    np.testing.assert_array_equal(result.speed, expected)
    # 20 Hz steering, 15 Hz camera, a 20 ms timeout: some frames have no current speed and
    # their command is held back, the others are limited by it.
    unknown = np.isnan(expected)
    assert 0 < unknown.sum() < unknown.size
    held = np.isnan(result.clean.array("curvature"))
    np.testing.assert_array_equal(held, unknown)
    assert result.stats["limit_counts"]["speed_unknown"] == int(unknown.sum())

    no_steering = copy_bag(ros2_bag, tmp_path / "no_steering", keep=[CAMERA])
    with pytest.raises(ReplaySettingsError, match="needs the vehicle speed"):
        replay([no_steering], ReplaySettings(model=replay_model, pipeline=config))

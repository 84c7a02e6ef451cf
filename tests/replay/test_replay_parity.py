"""The replay computes what the car computes: against the pipeline stepped by hand, and batched
against frame by frame (clean and with input noise)."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from replay_helpers import (
    AUTO,
    CAMERA,
    DRIVE,
    LIMITS,
    MODE_CHANGES_S,
    assert_same_outputs,
    columns,
)

from ncp_driver.bags import Recording
from ncp_driver.replay.engine import ReplayResult, ReplaySettings, replay
from ncp_driver.runtime import FrameResult, PipelineStats, SteeringModel, SteeringPipeline


def result_columns(results: list[FrameResult]) -> dict[str, Any]:
    """The outputs of frames stepped by hand, in the layout of ``replay_helpers.columns``."""
    commands = [r.command for r in results]
    ran = [i for i, r in enumerate(results) if r.neurons is not None]
    return {
        "stamp": np.array([r.stamp for r in results]),
        "status": [r.status for r in results],
        "autonomous": [r.autonomous for r in results],
        "curvature": np.array([c.curvature if c else math.nan for c in commands]),
        "raw_curvature": np.array([c.raw_curvature if c else math.nan for c in commands]),
        "steering_angle": np.array([c.steering_angle if c else math.nan for c in commands]),
        "elapsed_s": np.array([r.elapsed_s for r in results]),
        "limits_active": [";".join(c.limits_active) if c else "" for c in commands],
        "reset_reason": [r.reset_reason or "" for r in results],
        "model_rows": ran,
        "neurons": np.array([results[i].neurons for i in ran], dtype=np.float64),
        "features": np.array([results[i].features for i in ran], dtype=np.float64),
    }


def step_by_hand(bag: Path, model: Path) -> tuple[dict[str, Any], PipelineStats]:
    """A fresh pipeline with the car's ``SteeringModel``, fed the bag's messages by hand.

    The replay's rule is that a frame is processed in the mode of the auto-mode flag in force at
    the frame's record time: the last Bool recorded at or before it. This loop applies that rule
    literally: it reads the camera and flag topics in record-time order and handles all messages
    of one record time together, every Bool among them first (``set_autonomous``, in order,
    each with its record time), then the Image(s) (``process_image``). Stepping strictly in the
    order read would not do: at equal record times rosbags yields the Image before the Bool, and
    the drive's mode changes fall on frame stamps (``replay_helpers.DRIVE``).
    """
    config = replace(LIMITS, model_path=str(model))
    pipeline = SteeringPipeline(config, model=SteeringModel.load(model, config))
    results: list[FrameResult] = []
    with Recording([bag]) as recording:
        messages = list(recording.messages([CAMERA, AUTO]))
    for stamp_ns, same_time in itertools.groupby(messages, key=lambda m: m.stamp_ns):
        group = list(same_time)
        for message in group:
            if message.topic == AUTO:
                pipeline.set_autonomous(bool(message.message.data), stamp_ns * 1e-9)
        for message in group:
            if message.topic == CAMERA:
                results.append(pipeline.process_image(message.message))
    return result_columns(results), pipeline.stats


def run(bag: Path, model: Path, batch_size: int, **settings: Any) -> ReplayResult:
    return replay(
        [bag], ReplaySettings(model=model, pipeline=LIMITS, batch_size=batch_size, **settings)
    )


@pytest.mark.parametrize("batch_size", [64, 1], ids=["batched", "frame_by_frame"])
def test_replay_equals_the_pipeline_stepped_by_hand(
    ros2_bag: Path, replay_model: Path, batch_size: int
) -> None:
    expected, stats = step_by_hand(ros2_bag, replay_model)
    result = run(ros2_bag, replay_model, batch_size)
    got = columns(result.clean)

    assert_same_outputs(got, expected)
    assert result.stats["resets"] == stats.resets
    assert result.stats["limit_counts"] == stats.limit_counts
    assert result.stats["frames_processed"] == stats.frames_processed == DRIVE.frame_count

    # What the comparison covered: every frame ran, the limits bound on some, and the mode
    # changed exactly at the frames recorded with the flag's changes (ties included).
    assert set(got["status"]) == {"ok"}
    limits = {name for active in got["limits_active"] for name in active.split(";") if name}
    assert limits == {"max_curvature", "max_curvature_rate"}
    assert np.nanstd(got["raw_curvature"]) > 1e-3
    rel = np.round(got["stamp"] - DRIVE.start_epoch_s, 6)
    changes = [
        float(rel[i])
        for i in range(1, len(rel))
        if got["autonomous"][i] != got["autonomous"][i - 1]
    ]
    assert changes == list(MODE_CHANGES_S)
    engage = [float(rel[i]) for i, r in enumerate(got["reset_reason"]) if r == "engage"]
    assert engage == [2.0, 9.0]
    manual = {got["reset_reason"][i] for i in range(len(rel)) if not got["autonomous"][i]}
    assert manual <= {"start", "manual"}


def test_batched_equals_frame_by_frame_with_noise(ros2_bag: Path, replay_model: Path) -> None:
    batched = run(ros2_bag, replay_model, 64, noise_levels=(0.1,))
    single = run(ros2_bag, replay_model, 1, noise_levels=(0.1,))

    assert batched.model_info["mode"] == "batched head"
    assert single.model_info["mode"] == "frame by frame"
    assert_same_outputs(columns(batched.clean), columns(single.clean))
    assert list(batched.noisy) == list(single.noisy) == [0.1]
    noisy = columns(batched.noisy[0.1])
    assert_same_outputs(noisy, columns(single.noisy[0.1]))
    assert batched.stats == single.stats

    # The noise reached the model: the noisy run is not the clean one.
    clean = columns(batched.clean)
    assert np.abs(noisy["features"] - clean["features"]).max() > 1e-3
    assert np.nanmax(np.abs(noisy["raw_curvature"] - clean["raw_curvature"])) > 1e-4

"""metrics.json against output.csv recomputed by hand; bags without the human's steering or without
the auto-mode flag."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from replay_helpers import AUTO, CAMERA, GPS, STEERING, copy_bag

from ncp_driver.bags import Recording
from ncp_driver.replay.engine import ReplaySettings, replay
from ncp_driver.replay.layout import METRICS_FILE, OUTPUT_FILE
from ncp_driver.replay.outputs import write_replay

WHEELBASE_M = 2.7  # the pipeline's default and the generator's


def read_output(path: Path) -> list[dict[str, str]]:
    with (path / OUTPUT_FILE).open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def by_hand(pred: list[float], human: list[float]) -> dict[str, float | int | None]:
    """MAE, RMSE and Pearson correlation over the frames where both are known."""
    pairs = [(p, h) for p, h in zip(pred, human, strict=True) if math.isfinite(p + h)]
    n = len(pairs)
    if n == 0:
        return {"frames": 0, "mae": None, "rmse": None, "corr": None}
    mae = sum(abs(p - h) for p, h in pairs) / n
    rmse = math.sqrt(sum((p - h) ** 2 for p, h in pairs) / n)
    mp = sum(p for p, _ in pairs) / n
    mh = sum(h for _, h in pairs) / n
    cov = sum((p - mp) * (h - mh) for p, h in pairs)
    sp = math.sqrt(sum((p - mp) ** 2 for p, _ in pairs))
    sh = math.sqrt(sum((h - mh) ** 2 for _, h in pairs))
    return {"frames": n, "mae": mae, "rmse": rmse, "corr": cov / (sp * sh)}


def number(text: str) -> float:
    return float(text) if text else math.nan


def test_metrics_json_equals_the_table_recomputed_by_hand(
    ros2_bag: Path, replay_model: Path, tmp_path: Path
) -> None:
    result = replay([ros2_bag], ReplaySettings(model=replay_model))
    out = write_replay(result, tmp_path / "replay", mcap=False)
    rows = read_output(out)
    doc = json.loads((out / METRICS_FILE).read_text())

    assert len(rows) == doc["frames"] == result.frames
    assert doc["human_label"] is True
    modes = {
        "autonomous": [r for r in rows if r["autonomous"] == "1"],
        "manual": [r for r in rows if r["autonomous"] == "0"],
        "all": rows,
    }
    assert len(modes["autonomous"]) > 50 and len(modes["manual"]) > 50
    for mode, selected in modes.items():
        expected = by_hand(
            [number(r["raw_curvature"]) for r in selected],
            [number(r["human_curvature"]) for r in selected],
        )
        got = doc[mode]
        assert got["frames"] == expected["frames"] == len(selected), mode
        for key in ("mae", "rmse", "corr"):
            assert got[key] == pytest.approx(expected[key], rel=1e-9, abs=1e-12), (mode, key)

    # The human's curvature is the steering message's: tan(angle) / wheelbase, at the frames
    # recorded together with a steering message (every third frame at 15 and 20 Hz).
    with Recording([ros2_bag]) as recording:
        steering = {m.stamp_ns: m.message for m in recording.messages([STEERING])}
        frame_ns = [m.stamp_ns for m in recording.messages([CAMERA])]
    together = [i for i, ns in enumerate(frame_ns) if ns in steering]
    assert len(together) == len(rows) // 3
    for i in together:
        angle = steering[frame_ns[i]].drive.steering_angle
        expected_k = math.tan(angle) / WHEELBASE_M
        assert number(rows[i]["human_curvature"]) == pytest.approx(expected_k, abs=1e-12)
        assert number(rows[i]["speed"]) == pytest.approx(abs(steering[frame_ns[i]].drive.speed))


def test_a_bag_without_steering_has_no_human_label(
    ros2_bag: Path, replay_model: Path, tmp_path: Path
) -> None:
    bag = copy_bag(ros2_bag, tmp_path / "no_steering", keep=[CAMERA, AUTO, GPS])
    result = replay([bag], ReplaySettings(model=replay_model))
    assert result.topics["steering"] is None
    out = write_replay(result, tmp_path / "replay", mcap=False)
    doc = json.loads((out / METRICS_FILE).read_text())

    assert doc["human_label"] is False
    for mode in ("autonomous", "manual", "all"):
        assert doc[mode] == {"frames": 0, "mae": None, "rmse": None, "corr": None}
    rows = read_output(out)
    assert len(rows) == result.frames
    assert all(r["human_curvature"] == "" and r["speed"] == "" for r in rows)
    assert all(r["status"] == "ok" for r in rows)
    with Recording([bag]) as recording:
        gps_ns = [m.stamp_ns for m in recording.messages([GPS])]
    inside = [r for r in rows if gps_ns[0] * 1e-9 <= float(r["bag_time"]) <= gps_ns[-1] * 1e-9]
    assert len(inside) >= len(rows) - 2
    assert all(r["latitude"] and r["longitude"] for r in inside)


@pytest.mark.parametrize("assume_autonomous", [True, False])
def test_a_bag_without_the_flag_replays_in_the_assumed_mode(
    ros2_bag: Path, replay_model: Path, tmp_path: Path, assume_autonomous: bool
) -> None:
    bag = copy_bag(ros2_bag, tmp_path / "no_flag", keep=[CAMERA, STEERING, GPS])
    settings = ReplaySettings(model=replay_model, assume_autonomous=assume_autonomous)
    result = replay([bag], settings)
    log = result.clean

    assert result.topics["auto"] is None
    assert set(log.autonomous) == {assume_autonomous}
    assert set(log.status) == {"ok"}
    if assume_autonomous:
        # Driving: the state starts once and runs on through the whole drive.
        assert log.reset_reason == ["start"] + [""] * (result.frames - 1)
        assert result.metrics()["autonomous"].frames == result.frames
    else:
        assert log.reset_reason == ["start"] + ["manual"] * (result.frames - 1)
        assert result.metrics()["manual"].frames == result.frames
    assert np.isfinite(log.array("raw_curvature")).all()

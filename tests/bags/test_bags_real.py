"""The bag tools on real recordings made by ``rosbag record`` (../shared/data/real)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from rosbags.highlevel import AnyReader

from ncp_driver.bags import Recording, load_series
from ncp_driver.bags.motion import vertical_rate
from ncp_driver.bags.series import stamp_text

HUSKY = "husky_gps_imu_odom.bag"
SPOT = "spot_compressed_images.bag"
ODOM = "/husky_velocity_controller/odom"


def test_husky_info(real_dir: Path, run_json: Callable[..., Any]) -> None:
    doc = run_json("info", real_dir / HUSKY)
    assert doc["formats"] == ["rosbag1 (bz2 chunks)"]
    assert doc["messages"] == 16806
    topics = {t["name"]: (t["type"], t["count"]) for t in doc["topics"]}
    assert topics == {
        "/fix": ("sensor_msgs/msg/NavSatFix", 989),
        ODOM: ("nav_msgs/msg/Odometry", 3952),
        "/imu/data": ("sensor_msgs/msg/Imu", 11865),
    }
    assert doc["start_utc"].startswith("2015-05-21T19:11:38")
    assert doc["duration_s"] == pytest.approx(395.3, abs=0.1)
    exact = run_json("info", real_dir / HUSKY, "--exact")
    rates = {t["name"]: t["rate_hz"] for t in exact["topics"]}
    assert rates[ODOM] == pytest.approx(10.0, rel=0.01)
    assert rates["/imu/data"] == pytest.approx(30.0, rel=0.01)


def test_husky_gps_to_csv(real_dir: Path, tmp_path: Path, run_json: Callable[..., Any]) -> None:
    out = tmp_path / "husky"
    doc = run_json("extract", real_dir / HUSKY, "-o", out, "--only", "gps")
    assert doc["outputs"] == [
        {"what": "gps rows", "topic": "/fix", "path": "gps.csv", "count": 989}
    ]
    with (out / "gps.csv").open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 989
    # The truth, read with rosbags directly.
    with AnyReader([real_dir / HUSKY]) as reader:
        conns = [c for c in reader.connections if c.topic == "/fix"]
        truth = [(t, reader.deserialize(raw, c.msgtype)) for c, t, raw in reader.messages(conns)]
    assert len(truth) == 989
    for row, (stamp, fix) in zip(rows, truth, strict=True):
        assert row["stamp"] == stamp_text(stamp)
        assert row["header_stamp"] == f"{fix.header.stamp.sec}.{fix.header.stamp.nanosec:09d}"
        assert float(row["latitude"]) == fix.latitude
        assert float(row["longitude"]) == fix.longitude
        assert float(row["altitude"]) == fix.altitude
        assert int(row["status"]) == fix.status.status
        assert int(row["service"]) == fix.status.service
        assert int(row["covariance_type"]) == fix.position_covariance_type
        assert [float(row[f"covariance_{i}"]) for i in range(9)] == fix.position_covariance.tolist()
    assert float(rows[0]["latitude"]) == pytest.approx(42.3758, abs=1e-3)
    assert float(rows[0]["longitude"]) == pytest.approx(-71.1474, abs=1e-3)


def test_spot_frames_decode_to_their_true_sizes(
    real_dir: Path,
    tmp_path: Path,
    run_cli: Callable[..., tuple[int, str, str]],
    run_json: Callable[..., Any],
) -> None:
    code, _, err = run_cli("extract", real_dir / SPOT, "-o", tmp_path / "none")
    assert code == 2  # ambiguous topic: choose one with its flag (a usage error)
    assert "several topics could be camera images" in err and "--camera TOPIC" in err
    # (height, width) as stored in the JPEG/PNG headers (the 16-bit depth PNG is 424 x 240).
    cameras = {
        "/spot/camera/frontleft/image/compressed": (480, 640),
        "/spot/camera/hand_color/image/compressed": (480, 640),
        "/spot/camera/hand_mono/image/compressed": (171, 224),
        "/spot/depth/frontleft/image/compressed": (240, 424),
    }
    with AnyReader([real_dir / SPOT]) as reader:
        truth = {
            c.topic: cv2.imdecode(
                np.asarray(reader.deserialize(raw, c.msgtype).data), cv2.IMREAD_COLOR
            )
            for c, _, raw in reader.messages()
        }
    args = [a for topic in cameras for a in ("--camera", topic)]
    out = tmp_path / "spot"
    doc = run_json("extract", real_dir / SPOT, "-o", out, *args)
    assert doc["undecodable_frames"] == {}
    assert sorted(o["count"] for o in doc["outputs"]) == [1, 1, 1, 1]
    for item in doc["outputs"]:
        folder = out / item["path"]
        with (folder / "index.csv").open(newline="") as stream:
            (row,) = list(csv.DictReader(stream))
        height, width = cameras[item["topic"]]
        assert (int(row["height"]), int(row["width"])) == (height, width)
        image = cv2.imread(str(folder / row["file"]))
        assert image.shape == (height, width, 3)
        np.testing.assert_array_equal(image, truth[item["topic"]])  # PNG output is lossless


def test_husky_imu_yaw_rate_matches_odometry(real_dir: Path) -> None:
    """The IMU is mounted on its side; the vertical found from gravity still gives the yaw rate."""
    with Recording([real_dir / HUSKY]) as rec:
        series = load_series(rec, {"/imu/data": "imu", ODOM: "odometry"})
    imu, odom = series["/imu/data"], series[ODOM]
    rate = vertical_rate(
        np.column_stack([imu["wx"], imu["wy"], imu["wz"]]),
        np.column_stack([imu["ax"], imu["ay"], imu["az"]]),
    )
    at_odom = np.interp(odom.stamp, imu.stamp, rate)
    slope, _ = np.polyfit(odom["wz"], at_odom, 1)
    assert slope == pytest.approx(1.0, abs=0.05)
    assert np.corrcoef(odom["wz"], at_odom)[0, 1] > 0.8


def test_husky_discomfort_from_three_sources(
    real_dir: Path, tmp_path: Path, run_json: Callable[..., Any]
) -> None:
    doc = run_json(
        "discomfort", real_dir / HUSKY, "--min-speed", "0.5", "--plot", tmp_path / "p.png"
    )
    assert doc["scope"] == "all driving"
    by_source = {s["source"]: s for s in doc["sources"]}
    assert set(by_source) == {"gps", "odometry", "imu"}
    for stats in by_source.values():
        assert stats["samples"] > 1000
        assert 0 < stats["a_lat_rms"] < 1.0  # a Husky at 1 m/s corners gently
    # Odometry and IMU measure the same turns: their lateral accelerations agree within 50 %.
    assert by_source["imu"]["a_lat_rms"] == pytest.approx(
        by_source["odometry"]["a_lat_rms"], rel=0.5
    )
    assert (tmp_path / "p.png").stat().st_size > 10_000


def test_spot_depth_and_mono_streams_are_not_steered_on(real_dir: Path) -> None:
    """A colour model accepts Spot's colour camera and refuses its mono and depth streams."""
    from ncp_driver.models import default_model_path
    from ncp_driver.runtime import PipelineConfig, SteeringPipeline

    config = PipelineConfig(model_path=str(default_model_path()), warmup_runs=0)
    statuses = {}
    with Recording([real_dir / SPOT]) as rec:
        for msg in rec.messages(list(rec.topics)):
            pipe = SteeringPipeline(config)
            result = pipe.process_image(msg.message)
            statuses[msg.topic] = (result.status, dict(pipe.stats.rejections))
    assert statuses == {
        "/spot/camera/hand_color/image/compressed": ("ok", {}),
        "/spot/camera/hand_mono/image/compressed": ("rejected", {"encoding": 1}),
        "/spot/camera/frontleft/image/compressed": ("rejected", {"encoding": 1}),
        "/spot/depth/frontleft/image/compressed": ("rejected", {"encoding": 1}),
    }

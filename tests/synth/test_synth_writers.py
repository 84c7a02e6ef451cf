"""Written drives read back with rosbags and h5py: topics, types, counts, pixels, takeovers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from rosbags.highlevel import AnyReader

from ncp_driver import drives, topics
from ncp_driver.bags.typestore import make_typestore
from ncp_driver.preprocessing import crop_and_resize
from ncp_driver.synth import (
    Drive,
    DriveConfig,
    SynthError,
    render_frame,
    simulate_drive,
    write_ros1_bag,
    write_ros2_bag,
    write_training_h5,
)
from ncp_driver.takeover import find_takeovers

TAKEOVERS = (5.0, 12.37)


@pytest.fixture(scope="module")
def drive() -> Drive:
    config = DriveConfig(
        seed=11, duration_s=20.0, height=60, width=96, camera_hz=10.0, takeover_times_s=TAKEOVERS
    )
    return simulate_drive(config)


def _read(path: Path) -> dict[str, list[tuple[int, Any]]]:
    """Every message by topic: (bag timestamp, deserialised message)."""
    out: dict[str, list[tuple[int, Any]]] = {}
    with AnyReader([path], default_typestore=make_typestore()) as reader:
        types = {c.topic: c.msgtype for c in reader.connections}
        for connection, stamp, raw in reader.messages():
            msg = reader.deserialize(raw, connection.msgtype)
            out.setdefault(connection.topic, []).append((stamp, msg))
    out["__types__"] = [(0, types)]
    return out


def _write(drive: Drive, kind: str, tmp_path: Path) -> Path:
    if kind == "ros1":
        return write_ros1_bag(drive, tmp_path / "drive.bag").path
    storage, compressed = kind.split("-")[1], kind.endswith("-jpeg")
    name = "drive.mcap" if storage == "mcap" else "drive"
    return write_ros2_bag(drive, tmp_path / name, storage=storage, compressed=compressed).path


@pytest.mark.parametrize("kind", ["ros2-sqlite3", "ros2-mcap", "ros1", "ros2-sqlite3-jpeg"])
def test_bag_holds_the_drive(drive: Drive, kind: str, tmp_path: Path) -> None:
    path = _write(drive, kind, tmp_path)
    messages = _read(path)
    compressed = kind.endswith("-jpeg")
    camera = topics.absolute(topics.CAMERA_COMPRESSED if compressed else topics.CAMERA_RAW)
    expected = {
        camera: (topics.TYPES[topics.CAMERA_COMPRESSED if compressed else topics.CAMERA_RAW], 200),
        topics.absolute(topics.GPS): ("sensor_msgs/msg/NavSatFix", 200),
        topics.absolute(topics.AUTO_MODE): ("std_msgs/msg/Bool", 400),
        topics.absolute(topics.HUMAN_STEERING): ("ackermann_msgs/msg/AckermannDriveStamped", 400),
    }
    types = messages.pop("__types__")[0][1]
    assert types == {topic: t for topic, (t, _) in expected.items()}
    assert {topic: len(m) for topic, m in messages.items()} == {
        topic: n for topic, (_, n) in expected.items()
    }

    # Camera: header stamp = bag time = the drive's frame stamps; pixels as rendered.
    frames = messages[camera]
    stamps = [stamp for stamp, _ in frames]
    assert stamps == drive.camera.stamps_ns.tolist()
    for stamp, msg in frames[:3]:
        assert msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec == stamp
        assert msg.header.frame_id == "camera"
    i, (_, msg) = 7, frames[7]
    if compressed:
        import cv2

        assert msg.format.endswith("jpeg compressed bgr8")
        bgr = cv2.imdecode(np.frombuffer(msg.data, np.uint8), cv2.IMREAD_COLOR)
        error = np.abs(bgr[..., ::-1].astype(int) - render_frame(drive, i).astype(int))
        assert error.mean() < 6  # JPEG, not bit-exact
    else:
        assert (msg.height, msg.width, msg.encoding, msg.step) == (60, 96, "rgb8", 96 * 3)
        pixels = np.asarray(msg.data).reshape(60, 96, 3)
        np.testing.assert_array_equal(pixels, render_frame(drive, i))

    # Steering: the bicycle model of the driven curvature.
    steering = messages[topics.absolute(topics.HUMAN_STEERING)]
    angles = np.array([m.drive.steering_angle for _, m in steering])
    np.testing.assert_allclose(
        angles, np.arctan(2.7 * drive.steering.curvature), rtol=1e-5, atol=1e-6
    )
    assert all(m.drive.speed > 0 for _, m in steering)

    # GPS: a fix with a covariance, where the drive says.
    fixes = messages[topics.absolute(topics.GPS)]
    lat = np.array([m.latitude for _, m in fixes])
    np.testing.assert_allclose(lat, drive.gps.latitude)
    first = fixes[0][1]
    assert first.status.status == 0 and first.position_covariance_type == 2
    assert first.position_covariance[0] > 0


@pytest.mark.parametrize("kind", ["ros2-sqlite3", "ros2-mcap", "ros1"])
def test_takeover_rule_on_the_bag_finds_the_scheduled_takeovers(
    drive: Drive, kind: str, tmp_path: Path
) -> None:
    flags = _read(_write(drive, kind, tmp_path))[topics.absolute(topics.AUTO_MODE)]
    stamps_ns = np.array([stamp for stamp, _ in flags], dtype=np.int64)
    auto = np.array([m.data for _, m in flags], dtype=bool)
    found = find_takeovers(stamps_ns * 1e-9, auto)
    assert stamps_ns[found].tolist() == drive.takeover_stamps_ns.tolist()
    # ... which are the configured times, at the first manual flag sample (20 Hz).
    start = drive.start_ns
    assert ((stamps_ns[found] - start) * 1e-9).round(9).tolist() == [5.0, 12.4]
    np.testing.assert_array_equal(stamps_ns[found] * 1e-9, drive.takeover_stamps)


@pytest.mark.parametrize("preprocessed", [False, True])
def test_training_h5_has_the_paper_layout(drive: Drive, preprocessed: bool, tmp_path: Path) -> None:
    path = write_training_h5(drive, tmp_path / "drive.h5", preprocessed=preprocessed).path
    n = drive.frame_count
    shape = (78, 200, 3) if preprocessed else (60, 96, 3)
    with h5py.File(path, "r") as f:
        assert set(f) == {drives.FRAMES, drives.TIMESTAMP, drives.INVERSE_R}
        frames, stamps, labels = f[drives.FRAMES], f[drives.TIMESTAMP], f[drives.INVERSE_R]
        assert frames.shape == (n, *shape) and frames.dtype == np.uint8
        assert stamps.shape == (n,) and stamps.dtype == np.float64
        assert labels.shape == (n, 1) and labels.dtype == np.float32
        np.testing.assert_allclose(stamps[:], drive.camera.stamps_ns * 1e-9)
        np.testing.assert_allclose(labels[:, 0], drive.camera.curvature, rtol=1e-6, atol=1e-9)
        expected = render_frame(drive, 4)
        if preprocessed:
            expected = crop_and_resize(expected)
        np.testing.assert_array_equal(frames[4], expected)
        assert list(f.attrs["takeover_stamps_ns"]) == drive.takeover_stamps_ns.tolist()


def test_same_seed_writes_the_same_training_file(tmp_path: Path) -> None:
    config = DriveConfig(seed=3, duration_s=4.0, height=60, width=96, takeover_count=0)
    paths = []
    for name in ("a.h5", "b.h5"):
        paths.append(write_training_h5(simulate_drive(config), tmp_path / name).path)
    with h5py.File(paths[0], "r") as a, h5py.File(paths[1], "r") as b:
        for key in a:
            np.testing.assert_array_equal(a[key][:], b[key][:])


def test_existing_outputs_are_kept_unless_forced(drive: Drive, tmp_path: Path) -> None:
    bag = write_ros2_bag(drive, tmp_path / "bag").path
    before = sorted(p.name for p in bag.iterdir())
    with pytest.raises(SynthError, match="exists already"):
        write_ros2_bag(drive, bag)
    write_ros1_bag(drive, tmp_path / "x.bag")
    with pytest.raises(SynthError, match="exists already"):
        write_ros1_bag(drive, tmp_path / "x.bag")
    with pytest.raises(SynthError, match="exists already"):
        write_training_h5(drive, tmp_path / "x.bag")
    write_ros2_bag(drive, bag, storage="mcap-folder", force=True)
    after = sorted(p.name for p in bag.iterdir())
    assert before != after and any(name.endswith(".mcap") for name in after)
    # Nothing half-written is left beside the outputs.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bag", "x.bag"]


def test_a_failed_write_leaves_no_output(drive: Drive, tmp_path: Path) -> None:
    with pytest.raises(SynthError, match="encoding"):
        write_ros2_bag(drive, tmp_path / "bag", encoding="yuv422")
    with pytest.raises(SynthError, match=r"\.bag"):
        write_ros1_bag(drive, tmp_path / "drive.db")
    assert list(tmp_path.iterdir()) == []


def test_bgr8_images_hold_the_same_pixels_reversed(drive: Drive, tmp_path: Path) -> None:
    path = write_ros2_bag(drive, tmp_path / "bgr", encoding="bgr8").path
    frames = _read(path)[topics.absolute(topics.CAMERA_RAW)]
    msg = frames[2][1]
    assert msg.encoding == "bgr8"
    pixels = np.asarray(msg.data).reshape(60, 96, 3)
    np.testing.assert_array_equal(pixels[..., ::-1], render_frame(drive, 2))

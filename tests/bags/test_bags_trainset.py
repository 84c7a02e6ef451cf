"""``ncp-bag trainset``: labelled drive files in the paper's layout that the trainer reads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import bags_scenario as sc
import h5py
import numpy as np
import pytest

from ncp_driver.bags import BagWriter
from ncp_driver.drives import FRAMES, INVERSE_R, TIMESTAMP
from ncp_driver.preprocessing import PAPER_PREPROCESSING, crop_and_resize

CURVATURE = 1 / sc.RADIUS


def load(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    with h5py.File(path) as f:
        return f[FRAMES][()], f[TIMESTAMP][()], f[INVERSE_R][()], dict(f.attrs)


@pytest.mark.parametrize(
    ("label", "extra"),
    [("steering", ["--wheelbase", str(sc.WHEELBASE)]), ("odometry", []), ("imu", [])],
)
def test_labels_from_each_source(
    scenario_bags: dict[str, Path],
    tmp_path: Path,
    run_json: Callable[..., Any],
    label: str,
    extra: list[str],
) -> None:
    out = tmp_path / f"{label}.h5"
    doc = run_json("trainset", scenario_bags["mcap"], "-o", out, "--label", label, *extra)
    assert doc["frames_in_bag"] == 120
    assert doc["kept"] == 114  # frames at 57.0 .. 59.5 s: the car stands still
    assert doc["left_out"] == {"speed below 1 m/s": 6}
    assert doc["frame_shape"] == [78, 200, 3]
    frames, stamps, inverse_r, attrs = load(out)
    assert frames.shape == (114, 78, 200, 3) and frames.dtype == np.uint8
    assert inverse_r.shape == (114, 1)
    np.testing.assert_allclose(inverse_r[:, 0], CURVATURE, rtol=1e-6)
    np.testing.assert_allclose(stamps, [sc.ns(k * 0.5) * 1e-9 for k in range(114)])
    np.testing.assert_array_equal(
        frames[40], crop_and_resize(sc.frame_pixels(40), PAPER_PREPROCESSING)
    )
    assert attrs["label_source"] == label
    assert attrs["camera_topic"] == sc.CAMERA
    assert attrs["preprocessing"] == PAPER_PREPROCESSING.to_json()


def test_output_trains_directly(
    scenario_bags: dict[str, Path], tmp_path: Path, run_json: Callable[..., Any]
) -> None:
    pytest.importorskip("torch", reason="the trainer's reader needs torch")
    from ncp_driver.drives import open_drive

    out = tmp_path / "drive.h5"
    run_json("trainset", scenario_bags["sqlite3"], "-o", out, "--label", "odometry")
    drive = open_drive(out)
    assert drive.length == 114
    assert drive.frame_shape == (78, 200, 3)
    np.testing.assert_allclose(drive.inverse_r, CURVATURE, rtol=1e-6)


def test_full_frames_and_skew(
    scenario_bags: dict[str, Path], tmp_path: Path, run_json: Callable[..., Any]
) -> None:
    out = tmp_path / "full.h5"
    doc = run_json(
        "trainset",
        scenario_bags["rosbag1-lz4"],
        "-o",
        out,
        "--label",
        "odometry",
        "--full-frames",
        "--min-speed",
        "0",
    )
    frames, _, inverse_r, _ = load(out)
    assert doc["kept"] == 114  # at standstill the curvature is undefined (0 / 0)
    assert doc["left_out"] == {"curvature undefined (no speed)": 6}
    np.testing.assert_array_equal(frames[7], sc.frame_pixels(7))
    np.testing.assert_allclose(inverse_r[:, 0], CURVATURE, rtol=1e-6)


def test_label_too_far_from_the_frames(
    tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    path = tmp_path / "skewed"
    with BagWriter(path, "sqlite3") as w:
        for k in range(4):
            img = w.message(
                "sensor_msgs/msg/Image",
                height=4,
                width=4,
                encoding="rgb8",
                step=12,
                data=np.zeros(48, np.uint8),
            )
            w.write("/cam", "sensor_msgs/msg/Image", sc.ns(k), img)
            odom = w.message(
                "nav_msgs/msg/Odometry",
                twist={"twist": {"linear": {"x": 5.0}, "angular": {"z": 0.5}}},
            )
            w.write("/odom", "nav_msgs/msg/Odometry", sc.ns(k + 0.2), odom)
    out = tmp_path / "d.h5"
    code, _, err = run_cli("trainset", path, "-o", out, "--label", "odometry", "--full-frames")
    assert code == 1
    assert "no frame could be labelled (4 no label sample within 0.05 s)" in err
    assert "--max-skew" in err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["skewed"]
    code, _, err = run_cli(
        "trainset",
        path,
        "-o",
        out,
        "--label",
        "odometry",
        "--full-frames",
        "--max-skew",
        "0.25",
        "--json",
    )
    assert code == 0, err
    _, stamps, inverse_r, _ = load(out)
    assert inverse_r[:, 0].tolist() == [pytest.approx(0.1)] * 4
    assert stamps.tolist() == [sc.ns(k) * 1e-9 for k in range(4)]


def test_steering_needs_a_wheelbase(
    scenario_bags: dict[str, Path], tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    code, _, err = run_cli("trainset", scenario_bags["mcap"], "-o", tmp_path / "x.h5")
    assert code == 1
    assert "needs the car's wheelbase: pass --wheelbase METRES" in err
    assert list(tmp_path.iterdir()) == []


def test_existing_drive_needs_force(
    scenario_bags: dict[str, Path], tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    out = tmp_path / "d.h5"
    out.write_bytes(b"precious")
    code, _, err = run_cli("trainset", scenario_bags["mcap"], "-o", out, "--label", "odometry")
    assert code == 2 and "exists already" in err  # an existing output: a usage error
    assert out.read_bytes() == b"precious"
    code, _, err = run_cli(
        "trainset", scenario_bags["mcap"], "-o", out, "--label", "odometry", "--force"
    )
    assert code == 0, err
    assert load(out)[0].shape[0] == 114

"""``ncp-bag extract``: frames and CSVs from the known scenario, exactly; outputs never half-done."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bags_scenario as sc
import cv2
import h5py
import numpy as np
import pytest

from ncp_driver.bags import BagWriter
from ncp_driver.bags import frames as frames_module
from ncp_driver.bags.series import stamp_text
from ncp_driver.preprocessing import PAPER_PREPROCESSING, Preprocessing, crop_and_resize


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream))


def test_paper_export_in_one_invocation(
    scenario_bag: Path, tmp_path: Path, run_json: Callable[..., Any]
) -> None:
    out = tmp_path / "export"
    doc = run_json("extract", scenario_bag, "-o", out)
    written = {item["path"]: (item["topic"], item["count"]) for item in doc["outputs"]}
    assert written == {
        "frames": (sc.CAMERA, 120),
        "gps.csv": (sc.GPS, 600),
        "auto_mode.csv": (sc.AUTO, 600),
        "steering.csv": (sc.STEERING, 1200),
        "odometry.csv": (sc.ODOM, 1200),
        "imu.csv": (sc.IMU, 3000),
    }
    assert doc["skipped_messages"] == {} and doc["undecodable_frames"] == {}
    assert sorted(p.name for p in out.iterdir()) == sorted(written)

    index = read_csv(out / "frames" / "index.csv")
    assert len(index) == 120
    for k in (0, 1, 77, 119):
        row = index[k]
        assert row["file"] == f"frame_{k:06d}.png"
        assert row["stamp"] == stamp_text(sc.ns(k * 0.5))
        assert float(row["header_stamp"]) == pytest.approx((sc.ns(k * 0.5) - 10_000_000) * 1e-9)
        image = cv2.cvtColor(cv2.imread(str(out / "frames" / row["file"])), cv2.COLOR_BGR2RGB)
        np.testing.assert_array_equal(image, sc.frame_pixels(k))

    gps = read_csv(out / "gps.csv")
    assert list(gps[0]) == [
        "stamp", "header_stamp", "latitude", "longitude", "altitude", "status", "service",
        "covariance_type", *(f"covariance_{i}" for i in range(9)),
    ]  # fmt: skip
    for k in (0, 1, 250, 599):
        row = gps[k]
        values = sc.gps_values(k)
        assert row["stamp"] == row["header_stamp"] == stamp_text(sc.ns(k * 0.1))
        assert float(row["latitude"]) == values["latitude"]
        assert float(row["longitude"]) == values["longitude"]
        assert float(row["altitude"]) == values["altitude"]
        assert (row["status"], row["service"], row["covariance_type"]) == ("0", "1", "2")
        cov = [float(row[f"covariance_{i}"]) for i in range(9)]
        assert cov == [k, 0, 0, 0, 2 * k, 0, 0, 0, 3 * k]

    auto = read_csv(out / "auto_mode.csv")
    assert [r["autonomous"] for r in auto] == [str(int(sc.autonomous(k * 0.1))) for k in range(600)]
    assert auto[300]["stamp"] == "1700000030.000000000"

    steering = read_csv(out / "steering.csv")
    assert float(steering[5]["steering_angle"]) == pytest.approx(sc.STEERING_ANGLE, rel=1e-7)
    assert float(steering[5]["speed"]) == 10.0
    odom = read_csv(out / "odometry.csv")
    assert (float(odom[5]["vx"]), float(odom[5]["wz"])) == (10.0, 0.2)
    assert (float(odom[1199]["vx"]), float(odom[1199]["wz"])) == (0.0, 0.0)
    imu = read_csv(out / "imu.csv")
    assert [float(imu[7][c]) for c in ("wz", "ay", "az")] == [0.2, 2.0, 9.81]


@pytest.mark.parametrize("fmt", ["npz", "h5"])
def test_cropped_frames_to_one_array_file(
    scenario_bags: dict[str, Path], tmp_path: Path, run_json: Callable[..., Any], fmt: str
) -> None:
    out = tmp_path / fmt
    doc = run_json(
        "extract",
        scenario_bags["rosbag1-bz2"],
        "-o",
        out,
        "--only",
        "frames",
        "--crop",
        "--format",
        fmt,
    )
    assert doc["outputs"] == [
        {"what": "frames (cropped)", "topic": sc.CAMERA, "path": f"frames.{fmt}", "count": 120}
    ]
    if fmt == "npz":
        with np.load(out / "frames.npz") as data:
            frames, stamp_ns, stamps = data["frames"], data["stamp_ns"], data["timestamp"]
            header = data["header_stamp"]
    else:
        with h5py.File(out / "frames.h5") as data:
            frames, stamp_ns = data["camera_front"][()], data["stamp_ns"][()]
            stamps, header = data["timestamp"][()], data["header_stamp"][()]
    assert frames.shape == (120, 78, 200, 3) and frames.dtype == np.uint8
    for k in (0, 64, 119):
        np.testing.assert_array_equal(
            frames[k], crop_and_resize(sc.frame_pixels(k), PAPER_PREPROCESSING)
        )
    assert stamp_ns.tolist() == [sc.ns(k * 0.5) for k in range(120)]
    np.testing.assert_allclose(stamps, stamp_ns * 1e-9)
    np.testing.assert_allclose(header, (stamp_ns - 10_000_000) * 1e-9)
    assert sorted(p.name for p in out.iterdir()) == [f"frames.{fmt}"]


def _model(path: Path, spec: Preprocessing) -> Path:
    """A minimal stateless model that follows the contract for ``spec`` (the pipeline's checks
    apply to ``--model``): curvature = neurons = the frame's mean, features = 32 copies."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from ncp_driver.contract import ModelContract

    h, w, c = spec.input_shape
    f32 = TensorProto.FLOAT
    nodes = [
        helper.make_node("ReduceMean", ["frame", "axes"], ["mean"], keepdims=0),
        helper.make_node("Unsqueeze", ["mean", "one"], ["curvature"]),
        helper.make_node("Identity", ["curvature"], ["neurons"]),
        helper.make_node("Mul", ["curvature", "ones"], ["features"]),
    ]
    graph = helper.make_graph(
        nodes,
        "m",
        [helper.make_tensor_value_info("frame", f32, ["batch", h, w, c])],
        [
            helper.make_tensor_value_info("curvature", f32, ["batch", 1]),
            helper.make_tensor_value_info("neurons", f32, ["batch", 1]),
            helper.make_tensor_value_info("features", f32, ["batch", 32]),
        ],
        [
            numpy_helper.from_array(np.array([1, 2, 3], np.int64), "axes"),
            numpy_helper.from_array(np.array([1], np.int64), "one"),
            numpy_helper.from_array(np.ones((1, 32), np.float32), "ones"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    contract = ModelContract(
        kind="cnn", state_size=0, neuron_count=1, feature_count=32, preprocessing=spec
    )
    for key, value in contract.to_metadata().items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, path)
    return path


def test_crop_with_the_model_preprocessing(
    scenario_bags: dict[str, Path], tmp_path: Path, run_json: Callable[..., Any]
) -> None:
    spec = Preprocessing(
        crop_x0=0.25, crop_x1=0.75, crop_y0=0.5, crop_y1=1.0, out_width=10, out_height=5
    )
    model = _model(tmp_path / "model.onnx", spec)
    out = tmp_path / "out"
    run_json(
        "extract",
        scenario_bags["mcap"],
        "-o",
        out,
        "--only",
        "frames",
        "--model",
        model,
        "--format",
        "npz",
    )
    with np.load(out / "frames.npz") as data:
        frames = data["frames"]
    assert frames.shape == (120, 5, 10, 3)
    np.testing.assert_array_equal(frames[3], crop_and_resize(sc.frame_pixels(3), spec))


def _jpeg_bag(path: Path, fmt: str, corrupt: int | None = None) -> list[np.ndarray]:
    frames = []
    with BagWriter(path, fmt) as w:
        for k in range(5):
            rgb = np.zeros((120, 160, 3), np.uint8)
            rgb[:, :, 0] = 40 * k
            rgb[40:80, 60:100] = (0, 200, 50)
            ok, jpeg = cv2.imencode(
                ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 98]
            )
            assert ok
            data = jpeg.reshape(-1)
            if k == corrupt:
                data = data[:200]
            msg = w.message(
                "sensor_msgs/msg/CompressedImage",
                header={"stamp": {"sec": 1_700_000_000 + k}},
                format="rgb8; jpeg compressed bgr8",
                data=data,
            )
            w.write("/cam/compressed", "sensor_msgs/msg/CompressedImage", sc.ns(k), msg)
            frames.append(rgb)
    return frames


def test_compressed_frames_full_and_reduced(tmp_path: Path, run_json: Callable[..., Any]) -> None:
    truth = _jpeg_bag(tmp_path / "jpeg", "mcap")
    doc = run_json("extract", tmp_path / "jpeg", "-o", tmp_path / "full", "--format", "npz")
    assert doc["outputs"][0]["count"] == 5
    with np.load(tmp_path / "full" / "frames.npz") as data:
        frames = data["frames"]
        header = data["header_stamp"]
    assert frames.shape == (5, 120, 160, 3)
    assert np.abs(frames.astype(int) - np.stack(truth).astype(int)).mean() < 2.0
    assert header.tolist() == [1_700_000_000.0 + k for k in range(5)]
    run_json(
        "extract", tmp_path / "jpeg", "-o", tmp_path / "half", "--format", "npz", "--reduce", "2"
    )
    with np.load(tmp_path / "half" / "frames.npz") as data:
        assert data["frames"].shape == (5, 60, 80, 3)


def test_undecodable_frame_is_skipped_and_counted(
    tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    _jpeg_bag(tmp_path / "jpeg.bag", "rosbag1", corrupt=2)
    code, out, err = run_cli(
        "extract", tmp_path / "jpeg.bag", "-o", tmp_path / "out", "--format", "jpg"
    )
    assert code == 0, err
    assert ["frames", "4", "frames", "from", "/cam/compressed"] in [
        x.split() for x in out.splitlines()
    ]
    assert (
        "skipped 1 frame(s) on /cam/compressed that did not decode (first: JPEG of 200 bytes" in out
    )
    files = sorted(p.name for p in (tmp_path / "out" / "frames").iterdir())
    assert files == [
        "frame_000000.jpg",
        "frame_000001.jpg",
        "frame_000002.jpg",
        "frame_000003.jpg",
        "index.csv",
    ]
    stamps = [row["header_stamp"] for row in read_csv(tmp_path / "out" / "frames" / "index.csv")]
    assert stamps == ["1700000000.0", "1700000001.0", "1700000003.0", "1700000004.0"]


def test_existing_output_needs_force(
    scenario_bags: dict[str, Path], tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, err = run_cli("extract", scenario_bags["sqlite3"], "-o", out, "--only", "auto")
    assert code == 2  # a usage error (exit codes: ncp_driver.exitcodes)
    assert f"{out} exists already: choose another output or pass --force" in err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    code, _, err = run_cli(
        "extract", scenario_bags["sqlite3"], "-o", out, "--only", "auto", "--force"
    )
    assert code == 0, err
    assert [p.name for p in out.iterdir()] == ["auto_mode.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_interrupted_run_leaves_nothing(
    scenario_bags: dict[str, Path],
    tmp_path: Path,
    run_cli: Callable[..., tuple[int, str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_add = frames_module.NpzSink.add

    def add_then_stop(self: Any, frame: np.ndarray, stamp_ns: int, header: float) -> None:
        if self.count == 50:
            raise KeyboardInterrupt
        real_add(self, frame, stamp_ns, header)

    monkeypatch.setattr(frames_module.NpzSink, "add", add_then_stop)
    out = tmp_path / "out"
    code, _, err = run_cli("extract", scenario_bags["sqlite3"], "-o", out, "--format", "npz")
    assert code == 130
    assert "interrupted; no output was written" in err
    assert list(tmp_path.iterdir()) == []


def test_explicit_kind_must_exist_and_missing_ones_are_noted(
    tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]], run_json: Callable[..., Any]
) -> None:
    path = tmp_path / "gps.bag"
    with BagWriter(path, "rosbag1") as w:
        for k in range(3):
            w.write(
                "/fix",
                "sensor_msgs/msg/NavSatFix",
                sc.ns(k),
                w.message("sensor_msgs/msg/NavSatFix", latitude=1.0 + k),
            )
    code, _, err = run_cli("extract", path, "-o", tmp_path / "a", "--only", "frames")
    assert code == 2  # no such topic: name one with its flag (a usage error)
    assert (
        "has no topic for camera images" in err
        and "/fix (sensor_msgs/msg/NavSatFix, 3 msgs)" in err
    )
    assert not (tmp_path / "a").exists()
    doc = run_json("extract", path, "-o", tmp_path / "b")
    assert [o["path"] for o in doc["outputs"]] == ["gps.csv"]
    assert "no camera topic (Image or CompressedImage): no frames" in doc["notes"]
    assert "no auto topic: auto_mode.csv not written" in doc["notes"]
    assert [float(r["latitude"]) for r in read_csv(tmp_path / "b" / "gps.csv")] == [1.0, 2.0, 3.0]


def test_frames_of_changing_size_need_files_or_crop(
    tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    path = tmp_path / "sizes"
    with BagWriter(path, "sqlite3") as w:
        for k, (h, wd) in enumerate([(10, 20), (12, 20)]):
            img = w.message(
                "sensor_msgs/msg/Image", height=h, width=wd, encoding="mono8", step=wd,
                data=np.full(h * wd, k, np.uint8),
            )  # fmt: skip
            w.write("/cam", "sensor_msgs/msg/Image", sc.ns(k), img)
    code, _, err = run_cli("extract", path, "-o", tmp_path / "out", "--format", "h5")
    assert code == 1
    assert "frame 1 is 20x12, the first was 20x10" in err
    assert not (tmp_path / "out").exists() and list(tmp_path.iterdir()) == [path]
    code, _, err = run_cli("extract", path, "-o", tmp_path / "out", "--format", "png")
    assert code == 0, err
    sizes = [(r["height"], r["width"]) for r in read_csv(tmp_path / "out" / "frames" / "index.csv")]
    assert sizes == [("10", "20"), ("12", "20")]

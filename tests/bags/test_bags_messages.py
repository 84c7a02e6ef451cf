"""The messages a newcomer met (issue 12, item 7) name the real problem, not a neighbouring one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import bags_scenario as sc
import pytest

from ncp_driver.bags.cli import build_parser


def test_a_text_file_named_bag_is_not_called_a_damaged_bag(
    tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    fake = tmp_path / "drive.bag"
    fake.write_text("latitude,longitude\n48.1,16.3\n")
    code, _, err = run_cli("info", fake)
    assert code != 0
    assert "not a bag but a text file" in err and "'latitude,longitude" in err
    assert "#ROSBAG V2.0" in err
    assert "reindex" not in err and "truncated" not in err
    for name in ("x.mcap", "x.db3"):
        (tmp_path / name).write_bytes(b"")
        code, _, err = run_cli("info", tmp_path / name)
        assert code != 0 and "not a bag but an empty file" in err, err


def test_a_camera_topic_of_another_type_names_the_camera_topics(
    scenario_bags: dict[str, Path], run_cli: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    bag = scenario_bags["sqlite3"]
    code, _, err = run_cli("extract", bag, "-o", tmp_path / "out", "--camera", sc.GPS)
    assert code != 0
    assert f"--camera {sc.GPS} is sensor_msgs/msg/NavSatFix" in err
    assert f"its topics of that kind: {sc.CAMERA}" in err
    assert "TOPIC:FIELD" not in err  # it does not apply to cameras
    code, _, err = run_cli("takeovers", bag, "--auto", sc.GPS)
    assert code != 0 and "(or give TOPIC:FIELD)" in err  # it does apply to the flag


def test_info_names_uncompressed_ros1_chunks(
    tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    bag = sc.write_scenario(tmp_path / "plain.bag", "rosbag1", None, with_camera=False)
    code, out, err = run_cli("info", bag)
    assert code == 0, err
    assert "format:    rosbag1 (uncompressed chunks)" in out and "none" not in out


def test_info_exact_shows_first_and_last_stamps_in_the_table(
    scenario_bags: dict[str, Path], run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    code, out, err = run_cli("info", scenario_bags["sqlite3"], "--exact")
    assert code == 0, err
    camera = next(line for line in out.splitlines() if line.startswith(sc.CAMERA))
    assert camera.split()[-2:] == ["1700000000.000000000", "1700000059.500000000"]
    code, out, _ = run_cli("info", scenario_bags["sqlite3"])
    assert "first record time" not in out


def test_help_points_to_what_an_installed_package_has() -> None:
    text = " ".join(build_parser().format_help().split())
    assert "ncp-bag COMMAND --help" in text
    assert "source repository (not installed with the package)" in text


def test_demo_help_text(capsys: pytest.CaptureFixture[str]) -> None:
    from ncp_driver.demo import main

    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    text = " ".join(text.split())
    assert "``" not in text and "no car, no ROS and no private data" in text


def test_16_bit_depth_frames_are_extracted_as_16_bit_png(
    tmp_path: Path, run_json: Callable[..., object]
) -> None:
    import cv2
    import numpy as np

    from ncp_driver.bags.writer import BagWriter

    depth = [(np.arange(12 * 16, dtype=np.uint16).reshape(12, 16) * 300 + k) for k in range(3)]
    bag = tmp_path / "depth.mcap"
    with BagWriter(bag, "mcap") as w:
        for k, values in enumerate(depth):
            msg = w.message(
                "sensor_msgs/msg/Image",
                header={"stamp": {"sec": 1_700_000_000 + k}},
                height=12,
                width=16,
                encoding="16UC1",
                step=32,
                data=np.frombuffer(values.astype("<u2").tobytes(), np.uint8),
            )
            w.write("/depth/image_raw", "sensor_msgs/msg/Image", sc.ns(k), msg)
    doc = run_json("extract", bag, "-o", tmp_path / "png", "--only", "frames")
    assert any("16-bit single-channel PNGs with their values unchanged" in n for n in doc["notes"])
    png = sorted((tmp_path / "png" / "frames").glob("*.png"))
    assert len(png) == 3
    for path, values in zip(png, depth, strict=True):
        read = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        assert read.dtype == np.uint16 and np.array_equal(read, values)
    doc = run_json("extract", bag, "-o", tmp_path / "jpg", "--only", "frames", "--format", "jpg")
    assert any("reduced to 8 bits" in n and "--format png" in n for n in doc["notes"])

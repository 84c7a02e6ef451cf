"""``ncp-bag info`` on the known scenario, and the atomic outputs every command relies on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import bags_scenario as sc
import pytest

from ncp_driver.bags import OutputExistsError
from ncp_driver.bags.output import atomic_dir, atomic_file, write_csv


def test_info_document(scenario_bags: dict[str, Path], run_json: Callable[..., Any]) -> None:
    doc = run_json("info", scenario_bags["mcap"])
    assert doc["formats"] == ["rosbag2 mcap"]
    assert doc["messages"] == 6720
    assert doc["start"] == "1700000000.000000000"
    assert doc["end"] == "1700000059.980000000"
    assert doc["start_utc"] == "2023-11-14T22:13:20.000Z"
    assert doc["duration_s"] == pytest.approx(59.98)
    topics = {t["name"]: (t["type"], t["count"]) for t in doc["topics"]}
    assert topics == {
        sc.CAMERA: ("sensor_msgs/msg/Image", 120),
        sc.GPS: ("sensor_msgs/msg/NavSatFix", 600),
        sc.IMU: ("sensor_msgs/msg/Imu", 3000),
        sc.ODOM: ("nav_msgs/msg/Odometry", 1200),
        sc.AUTO: ("std_msgs/msg/Bool", 600),
        sc.STEERING: ("ackermann_msgs/msg/AckermannDriveStamped", 1200),
    }
    exact = run_json("info", scenario_bags["mcap"], "--exact")
    by_name = {t["name"]: t for t in exact["topics"]}
    assert by_name[sc.IMU]["rate_hz"] == pytest.approx(50.0)
    assert by_name[sc.CAMERA]["rate_hz"] == pytest.approx(2.0)
    assert by_name[sc.CAMERA]["first"] == "1700000000.000000000"
    assert by_name[sc.CAMERA]["last"] == "1700000059.500000000"


def test_info_table_and_several_bags(
    scenario_bags: dict[str, Path], run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    code, out, err = run_cli("info", scenario_bags["rosbag1-bz2"], scenario_bags["sqlite3"])
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1] == "format:    rosbag1 (bz2 chunks), rosbag2 sqlite3"
    assert lines[5] == "messages:  13440"
    assert lines[8].split() == ["/camera/image_raw", "sensor_msgs/msg/Image", "240", "4.00"]


def test_atomic_file_appears_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), atomic_file(target) as tmp:
        tmp.write_text("half")
        assert tmp.name.startswith(".out.csv.") and tmp.name.endswith(".partial")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
    assert write_csv(target, ["a", "b"], [(1, 2), (3, 4)]) == 2
    assert target.read_text() == "a,b\n1,2\n3,4\n"
    with pytest.raises(OutputExistsError, match="pass --force"):
        write_csv(target, ["a"], [(5,)])
    assert target.read_text() == "a,b\n1,2\n3,4\n"
    write_csv(target, ["a"], [(5,)], force=True)
    assert target.read_text() == "a\n5\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_atomic_dir_replaces_only_after_success(tmp_path: Path) -> None:
    target = tmp_path / "export"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(OutputExistsError):
        atomic_dir(target).__enter__()
    with pytest.raises(KeyError), atomic_dir(target, force=True) as tmp:
        (tmp / "new.txt").write_text("new")
        raise KeyError("stop")
    assert [p.name for p in target.iterdir()] == ["old.txt"]
    with atomic_dir(target, force=True) as tmp:
        (tmp / "new.txt").write_text("new")
    assert [p.name for p in target.iterdir()] == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["export"]

"""``ncp-bag takeovers``: the known scenario's count, times, distance and map, in every format."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bags_scenario as sc
import cv2
import pytest

from ncp_driver.bags import BagWriter


def test_takeovers_of_the_scenario(scenario_bag: Path, run_json: Callable[..., Any]) -> None:
    doc = run_json("takeovers", scenario_bag)
    distance_km = sc.AUTO_STEPS * sc.CHORD_M / 1000
    assert doc["takeovers"] == 3
    assert doc["auto_topic"] == sc.AUTO
    assert doc["gps_topic"] == sc.GPS
    assert doc["speed_source"] == f"odometry {sc.ODOM}"
    assert doc["min_duration_s"] == 0.5
    assert doc["autonomous_s"] == pytest.approx(sc.AUTONOMOUS_S, abs=1e-6)
    assert doc["autonomous_km"] == pytest.approx(distance_km, rel=1e-6)
    assert doc["takeovers_per_hour"] == pytest.approx(3 / (40 / 3600), rel=1e-6)
    assert doc["takeovers_per_km"] == pytest.approx(3 / distance_km, rel=1e-6)
    assert doc["recording_s"] == pytest.approx(59.98, abs=1e-6)
    events = doc["events"]
    assert [e["number"] for e in events] == [1, 2, 3]
    for event, t in zip(events, sc.TAKEOVERS_S, strict=True):
        assert event["stamp"] == pytest.approx(sc.ns(t) * 1e-9, abs=1e-6)
        assert event["since_start_s"] == pytest.approx(t, abs=1e-6)
        lat, lon = sc.latlon(t)
        assert event["latitude"] == pytest.approx(lat, abs=1e-9)
        assert event["longitude"] == pytest.approx(lon, abs=1e-9)
        assert event["speed_mps"] == sc.SPEED
    assert events[0]["time_utc"] == "2023-11-14T22:13:40.000Z"
    segments = [(s["autonomous"], round(s["start"] - 1.7e9, 6)) for s in doc["segments"]]
    assert segments == [
        (False, 0.0),
        (True, 5.0),
        (False, 20.0),
        (True, 25.0),
        (False, 40.0),
        (True, 45.0),
        (False, 55.0),
    ]
    assert doc["skipped_messages"] == {}


def test_debounce_duration_decides_whether_a_flicker_counts(
    scenario_bags: dict[str, Path], run_json: Callable[..., Any]
) -> None:
    doc = run_json("takeovers", scenario_bags["sqlite3"], "--min-duration", "0.1")
    assert doc["takeovers"] == 4
    assert [round(e["since_start_s"], 6) for e in doc["events"]] == [20.0, 30.0, 40.0, 55.0]


def test_table_and_map(
    scenario_bags: dict[str, Path], run_cli: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    png = tmp_path / "map.png"
    code, out, err = run_cli("takeovers", scenario_bags["mcap"], "--map", png)
    assert code == 0, err
    lines = out.splitlines()
    assert "takeovers:         3" in lines
    assert "autonomous:        40.0 s, 0.397 km" in lines
    assert "per hour:          270.00" in lines
    assert any(line.split()[:2] == ["1", "1700000020.000"] for line in lines)
    assert lines[-1] == f"map: {png}"
    image = cv2.imread(str(png))
    assert image.shape == (960, 960, 3)
    red = (image[:, :, 2] > 150) & (image[:, :, 1] < 90) & (image[:, :, 0] < 90)
    green = (image[:, :, 1] > 100) & (image[:, :, 0] < 100) & (image[:, :, 2] < 100)
    assert red.sum() > 50 and green.sum() > 500  # takeover marks and the autonomous track

    code, _, err = run_cli("takeovers", scenario_bags["mcap"], "--map", png)
    assert code == 2  # an existing output without --force: a usage error
    assert f"{png} exists already" in err and "--force" in err
    before = png.stat().st_mtime_ns
    code, _, err = run_cli("takeovers", scenario_bags["mcap"], "--map", png, "--force")
    assert code == 0, err
    assert png.stat().st_mtime_ns >= before


def test_without_gps_the_distance_is_unknown(tmp_path: Path, run_json: Callable[..., Any]) -> None:
    path = tmp_path / "flag_only"
    with BagWriter(path, "mcap") as w:
        for k in range(100):
            msg = w.typestore.types["std_msgs/msg/Bool"](data=10 <= k < 60)
            w.write("/autonomous", "std_msgs/msg/Bool", sc.ns(k * 0.1), msg)
    doc = run_json("takeovers", path)
    assert doc["takeovers"] == 1
    assert doc["autonomous_s"] == pytest.approx(5.0, abs=1e-6)
    assert doc["autonomous_km"] is None
    assert doc["takeovers_per_km"] is None
    assert doc["takeovers_per_hour"] == pytest.approx(720.0)
    assert doc["events"][0]["latitude"] is None
    assert doc["events"][0]["speed_mps"] is None


def test_empty_auto_topic_is_an_error(
    tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    path = tmp_path / "empty_flag"
    with BagWriter(path, "sqlite3") as w:
        w.write(
            "/vehicle/autonomous", "std_msgs/msg/Bool", sc.ns(0), w.message("std_msgs/msg/Bool")
        )
    with sqlite3.connect(path / "empty_flag.db3") as con:
        con.execute("DELETE FROM messages")
    # The bare .db3 (its metadata.yaml would declare the deleted message: a damaged bag).
    code, out, err = run_cli("takeovers", path / "empty_flag.db3")
    assert code == 1 and out == ""
    assert "topic /vehicle/autonomous (auto) has no readable messages" in err


def test_vehicle_status_field_as_the_flag(
    tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    msgs = tmp_path / "msgs" / "car_msgs" / "msg"
    msgs.mkdir(parents=True)
    (msgs / "Status.msg").write_text("bool dbw_enabled\nfloat32 speed\n")
    path = tmp_path / "status"
    with BagWriter(path, "sqlite3", msg_dirs=[tmp_path / "msgs"]) as w:
        for k, enabled in enumerate([0, 1, 1, 1, 0, 0, 1, 1, 0, 0]):
            msg = w.message("car_msgs/msg/Status", dbw_enabled=bool(enabled), speed=3.0)
            w.write("/car/status", "car_msgs/msg/Status", sc.ns(k), msg)
    with sqlite3.connect(path / "status.db3") as con:
        con.execute("DELETE FROM message_definitions")
    code, _, err = run_cli("takeovers", path, "--auto", "/car/status:dbw_enabled")
    assert code == 1 and "pass --msg-dir DIR where DIR holds car_msgs/msg/Status.msg" in err
    code, out, err = run_cli(
        "takeovers",
        path,
        "--auto",
        "/car/status:dbw_enabled",
        "--msg-dir",
        tmp_path / "msgs",
        "--json",
    )
    assert code == 0, err
    assert '"takeovers": 2' in out
    code, _, err = run_cli(
        "takeovers", path, "--auto", "/car/status:enabled", "--msg-dir", tmp_path / "msgs"
    )
    assert code == 2  # a field the message lacks, named by the user: a usage error
    assert "has no field the auto reader needs" in err and "dbw_enabled, speed" in err


def test_recording_with_no_flag_topic(
    tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    path = tmp_path / "gps_only.bag"
    with BagWriter(path, "rosbag1") as w:
        fix = w.message("sensor_msgs/msg/NavSatFix", latitude=42.0)
        w.write("/fix", "sensor_msgs/msg/NavSatFix", sc.ns(0), fix)
    code, _, err = run_cli("takeovers", path)
    assert code == 2  # no topic for a role: name one with its flag (a usage error)
    assert "has no topic for the auto-mode flag" in err
    assert "/fix (sensor_msgs/msg/NavSatFix, 1 msgs)" in err

"""Lateral acceleration and jerk: the filters, the statistics, and ``ncp-bag discomfort``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import bags_scenario as sc
import cv2
import numpy as np
import pytest

from ncp_driver.bags.discomfort import discomfort_report
from ncp_driver.bags.modes import ModeTimeline
from ncp_driver.bags.motion import (
    Motion,
    MotionSettings,
    from_gps,
    from_odometry,
    gaps_split,
    savgol,
    vertical_rate,
)
from ncp_driver.geo import from_local_m, path_length_m, to_local_m


def test_savgol_differentiates_a_cubic_exactly() -> None:
    dt = 0.1
    t = np.arange(50) * dt
    x = 2.0 - 3.0 * t + 0.5 * t**2 + 0.25 * t**3
    np.testing.assert_allclose(savgol(x, 11, 3, 0, dt), x, atol=1e-9)
    np.testing.assert_allclose(savgol(x, 11, 3, 1, dt), -3.0 + t + 0.75 * t**2, atol=1e-9)
    np.testing.assert_allclose(savgol(x, 11, 3, 2, dt), 1.0 + 1.5 * t, atol=1e-8)
    with pytest.raises(ValueError, match="fewer than the window"):
        savgol(x[:5], 11, 3, 0, dt)


def test_local_metres_round_trip_and_gaps() -> None:
    east = np.array([0.0, 100.0, -250.0])
    north = np.array([0.0, 40.0, 900.0])
    lat, lon = from_local_m(east, north, (42.0, -71.0))
    e, n = to_local_m(lat, lon)
    np.testing.assert_allclose(e, east, atol=1e-9)
    np.testing.assert_allclose(n, north, atol=1e-9)
    assert path_length_m(lat[:2], lon[:2]) == pytest.approx(np.hypot(100, 40), rel=1e-9)
    assert gaps_split(np.array([0, 0.1, 0.2, 2.0, 2.1]), 1.0) == [slice(0, 3), slice(3, 5)]


def test_gps_circle_gives_speed_yaw_rate_and_lateral_acceleration() -> None:
    t = np.arange(600) * 0.1
    pos = np.array([sc.local_position(x) for x in np.minimum(t, 50.0)])
    lat, lon = from_local_m(pos[:, 0], pos[:, 1], sc.ORIGIN)
    motion = from_gps(t, lat, lon, MotionSettings())
    inner = (motion.t > 2) & (motion.t < 48)
    np.testing.assert_allclose(motion.speed[inner], 10.0, rtol=1e-5)
    # A cubic over 2 s underestimates the circle's curvature by 0.31 %: known filter bias.
    np.testing.assert_allclose(motion.a_lat[inner], 2.0 * 0.99688, rtol=2e-4)
    np.testing.assert_allclose(motion.yaw_rate[inner], 0.2 * 0.99688, rtol=2e-4)
    assert np.abs(motion.jerk[inner]).max() < 1e-6
    assert not motion.moving[motion.t > 52].any()
    assert (motion.a_lat[motion.t > 52] == 0).all()


def test_vertical_rate_finds_the_vertical_of_a_tilted_imu() -> None:
    """An IMU mounted on its side (up = +y): the yaw rate is the gyro's y axis."""
    n = 200
    gyro = np.zeros((n, 3))
    gyro[:150, 1] = 0.3  # turning for 150 samples, still for 50
    accel = np.tile([0.0, 9.81, 0.0], (n, 1))
    accel[:150, 0] = 3.0  # lateral acceleration while turning must not tilt the vertical
    np.testing.assert_allclose(vertical_rate(gyro, accel), gyro[:, 1], atol=1e-12)


def _motion(a_lat: np.ndarray, dt: float = 0.1) -> Motion:
    n = a_lat.size
    t = np.arange(n) * dt
    jerk = np.gradient(a_lat, dt)
    return Motion("test", t, np.full(n, 10.0), a_lat / 10, a_lat, jerk, np.ones(n, bool), dt)


def test_statistics_over_autonomous_samples_only() -> None:
    a = np.array([1.0, -2.0, 6.0, 1.0, 5.0, -5.0, 0.0, 0.0, 3.0, 9.0])
    motion = _motion(a)
    timeline = ModeTimeline.from_flag(np.array([0.0, 0.45]), np.array([True, False]), 0.9, 0.0)
    report = discomfort_report([(motion, "/x")], timeline, ["b"], MotionSettings(), "/auto")
    stats = report.sources[0]
    auto = np.abs(a[:5])  # t = 0.0 .. 0.4 is autonomous
    assert stats.samples == 5
    assert stats.duration_s == pytest.approx(0.5)
    assert stats.a_lat_rms == pytest.approx(np.sqrt(np.mean(auto**2)))
    assert stats.a_lat_p95 == pytest.approx(np.percentile(auto, 95))
    assert stats.a_lat_max == 6.0
    assert stats.a_lat_over_limit_share == pytest.approx(2 / 5)  # 6 and 5 exceed 4.89
    assert stats.jerk_max == pytest.approx(np.abs(np.gradient(a, 0.1)[:5]).max())
    assert report.scope == "autonomous"
    everything = discomfort_report([(motion, "/x")], None, ["b"], MotionSettings())
    assert everything.scope == "all driving"
    assert everything.sources[0].samples == 10
    assert everything.sources[0].a_lat_over_limit_share == pytest.approx(4 / 10)


def test_odometry_tightening_turn_exceeds_the_lateral_limit() -> None:
    """Yaw rate ramps from 0.2 to 0.6 rad/s over 9-11 s at 10 m/s: a_lat 2 -> 6 m/s^2, jerk 2."""
    t = np.arange(400) * 0.05
    yaw = 0.2 + 0.4 * np.clip((t - 9.0) / 2.0, 0.0, 1.0)
    motion = from_odometry(t, np.full_like(t, 10.0), yaw)
    assert motion.t.tolist() == pytest.approx((np.arange(200) * 0.1).tolist())
    stats = discomfort_report([(motion, "/odom")], None, ["b"], MotionSettings()).sources[0]
    # |a_lat| > 4.89 once yaw > 0.489 rad/s, i.e. after 10.445 s: grid samples 10.5 .. 19.9 s.
    assert stats.a_lat_over_limit_share == 95 / 200
    assert stats.a_lat_max == pytest.approx(6.0, rel=0.01)
    assert stats.jerk_max == pytest.approx(2.0, rel=0.1)
    assert stats.jerk_over_limit_share == 0.0


def test_discomfort_command_on_the_scenario(
    scenario_bag: Path, tmp_path: Path, run_json: Callable[..., Any]
) -> None:
    plot = tmp_path / "comfort.png"
    doc = run_json("discomfort", scenario_bag, "--plot", plot)
    assert doc["scope"] == "autonomous" and doc["auto_topic"] == sc.AUTO
    assert doc["limits"] == {"a_lat_mps2": 4.89, "jerk_mps3": 8.37}
    by_source = {s["source"]: s for s in doc["sources"]}
    assert set(by_source) == {"gps", "odometry", "imu"}
    for name in ("odometry", "imu"):
        s = by_source[name]
        assert s["duration_s"] == pytest.approx(40.0, abs=0.11)
        for key in ("a_lat_rms", "a_lat_p95", "a_lat_max"):
            assert s[key] == pytest.approx(2.0, abs=1e-9)
        assert s["jerk_max"] == pytest.approx(0.0, abs=1e-9)
        assert s["a_lat_over_limit_share"] == 0.0
    assert by_source["gps"]["a_lat_rms"] == pytest.approx(2.0 * 0.99688, rel=2e-4)
    assert by_source["gps"]["duration_s"] == pytest.approx(40.0, abs=0.11)
    image = cv2.imread(str(plot))
    assert image is not None and image.shape == (840, 1320, 3)


def test_all_driving_includes_manual_stretches(
    scenario_bags: dict[str, Path], run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    code, out, err = run_cli("discomfort", scenario_bags["sqlite3"], "--all-driving")
    assert code == 0, err
    assert "scope:  all driving" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[6:9]}
    assert float(rows["odometry"][1]) == pytest.approx(57.0, abs=0.11)  # moving from 0 to 57 s
    assert rows["odometry"][3] == "2.000"  # p95: the steady turn
    # The scenario stops dead at 57 s; the smoothed a_lat overshoots that step by under 10 %.
    assert 2.0 < float(rows["odometry"][4]) < 2.2

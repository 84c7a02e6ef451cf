"""The simulated drive: reproducible, physically consistent, takeovers where scheduled."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ncp_driver.synth import DriveConfig, SynthError, simulate_drive
from ncp_driver.takeover import DEFAULT_MIN_DURATION_S, find_takeovers


def small(**overrides: object) -> DriveConfig:
    values: dict[str, object] = {"duration_s": 40.0, "height": 120, "width": 192}
    values.update(overrides)
    return DriveConfig(**values)  # type: ignore[arg-type]


def test_same_seed_same_drive_other_seed_other_drive() -> None:
    a, b = simulate_drive(small(seed=7)), simulate_drive(small(seed=7))
    for name in ("x", "y", "heading", "speed", "curvature", "lateral_error", "auto"):
        np.testing.assert_array_equal(getattr(a.sim, name), getattr(b.sim, name))
    np.testing.assert_array_equal(a.gps.latitude, b.gps.latitude)
    np.testing.assert_array_equal(a.takeover_stamps_ns, b.takeover_stamps_ns)
    c = simulate_drive(small(seed=8))
    assert not np.array_equal(a.sim.curvature, c.sim.curvature)
    assert not np.array_equal(a.takeover_stamps_ns, c.takeover_stamps_ns)


def test_explicit_takeovers_are_stamped_at_the_first_manual_flag_sample() -> None:
    drive = simulate_drive(small(takeover_times_s=(10.0, 20.03, 31.5), mode_hz=20.0))
    start = drive.start_ns
    # 20.03 s falls between flag samples (every 50 ms): the first manual sample is at 20.05 s.
    expected = [start + 10_000_000_000, start + 20_050_000_000, start + 31_500_000_000]
    assert drive.takeover_stamps_ns.tolist() == expected
    found = find_takeovers(drive.mode.stamps_ns * 1e-9, drive.mode.auto)
    assert drive.mode.stamps_ns[found].tolist() == expected
    assert drive.mode.auto[0] == False  # noqa: E712 - the drive starts manual


def test_seeded_takeover_count_and_stretches_outlast_the_debounce() -> None:
    drive = simulate_drive(small(seed=3, takeover_count=4, duration_s=60.0))
    assert drive.takeover_stamps_ns.size == 4
    found = find_takeovers(drive.mode.stamps_ns * 1e-9, drive.mode.auto)
    np.testing.assert_array_equal(drive.mode.stamps_ns[found], drive.takeover_stamps_ns)
    flags = drive.mode.auto.astype(np.int8)
    edges = np.flatnonzero(np.diff(flags)) + 1
    stretches = np.diff(drive.mode.stamps_ns[edges]) * 1e-9
    assert stretches.min() > DEFAULT_MIN_DURATION_S


def test_vehicle_motion_is_consistent_with_the_curvature_it_drove() -> None:
    drive = simulate_drive(small(seed=1))
    sim = drive.sim
    dt = np.diff(sim.stamps_ns) * 1e-9
    # Yaw rate = speed * curvature (the label), and the position follows the heading.
    np.testing.assert_allclose(np.diff(sim.heading), (sim.yaw_rate * np.r_[dt, 0])[:-1], atol=1e-9)
    step = np.hypot(np.diff(sim.x), np.diff(sim.y))
    np.testing.assert_allclose(step, sim.speed[:-1] * dt, rtol=1e-6)
    direction = np.arctan2(np.diff(sim.y), np.diff(sim.x))
    mid = sim.heading[:-1] + 0.5 * np.diff(sim.heading)
    assert np.abs(np.angle(np.exp(1j * (direction - mid)))).max() < 1e-6


def test_driver_stays_in_lane_with_human_like_wander() -> None:
    cfg = small(seed=1, duration_s=60.0)
    drive = simulate_drive(cfg)
    error = drive.sim.lateral_error
    assert np.abs(error).max() < cfg.lane_width_m / 2 + cfg.drift_m  # never leaves the road
    assert 0.05 < error.std() < 0.8  # but does not drive on rails either
    speed = drive.sim.speed
    assert speed.min() >= 0.5 * cfg.min_speed_mps and speed.max() <= cfg.max_speed_mps + 1e-9
    # The driven curvature follows the road's with a lag: strongly correlated.
    road_k = np.interp(drive.camera.road_s, drive.road.s, drive.road.curvature)
    assert np.corrcoef(road_k, drive.camera.curvature)[0, 1] > 0.8


def test_gps_track_follows_the_trajectory_within_its_noise() -> None:
    cfg = small(seed=4)
    drive = simulate_drive(cfg)
    gps = drive.gps
    at = drive.sim.sample(gps.stamps_ns)
    lat0 = math.radians(cfg.origin_lat)
    north = np.radians(gps.latitude - cfg.origin_lat) * 6_367_000.0
    east = np.radians(gps.longitude - cfg.origin_lon) * 6_389_000.0 * math.cos(lat0)
    error = np.hypot(east - at.x, north - at.y)
    assert np.median(error) < 3 * gps.std_m
    assert error.max() > 0  # noise is there
    assert np.diff(gps.stamps_ns).min() == np.diff(gps.stamps_ns).max() == 100_000_000


def test_stream_counts_and_rates() -> None:
    drive = simulate_drive(small(duration_s=10.0, camera_hz=15.0, takeover_count=1))
    assert drive.frame_count == 150
    assert drive.mode.stamps_ns.size == 200 and len(drive.steering) == 200
    assert drive.camera.stamps_ns[0] == drive.start_ns == 1_588_334_400 * 10**9


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"takeover_count": 9, "duration_s": 30.0}, "do not fit"),
        ({"takeover_times_s": (10.0, 10.3)}, "apart"),
        ({"takeover_times_s": (29.9,), "duration_s": 30.0}, "too close to the end"),
        ({"engage_times_s": (1.0,)}, "without takeover_times_s"),
        ({"min_speed_mps": 20.0}, "min_speed_mps"),
        ({"manual_s": (0.2, 1.0)}, "debounce"),
    ],
)
def test_impossible_configs_are_refused_with_a_reason(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(SynthError, match=message):
        simulate_drive(small(**overrides))

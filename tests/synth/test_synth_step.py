"""The synthetic world one step at a time: the vehicle from a command, the camera from any pose."""

from __future__ import annotations

import math

import numpy as np

from ncp_driver.preprocessing import PAPER_PREPROCESSING, crop_and_resize
from ncp_driver.synth import DriveConfig, Renderer, simulate_drive
from ncp_driver.synth.driver import HumanDriver
from ncp_driver.synth.road import make_road
from ncp_driver.synth.vehicle import Pose, Vehicle, bicycle_step


def _config(**overrides: object) -> DriveConfig:
    values: dict[str, object] = {"duration_s": 12.0, "height": 120, "width": 192}
    values.update(overrides)
    return DriveConfig(takeover_count=0, **values)  # type: ignore[arg-type]


def test_the_bicycle_at_constant_curvature_drives_a_circle() -> None:
    x, y, heading = 0.0, 0.0, 0.0
    k, v, dt = 1.0 / 20.0, 10.0, 0.01
    steps = round(2 * math.pi * 20.0 / v / dt)  # one lap of a 20 m radius
    for _ in range(steps):
        x, y, heading = bicycle_step(x, y, heading, v, k, dt)
        assert abs(math.hypot(x, y - 20.0) - 20.0) < 1e-3
    assert math.hypot(x, y) < 0.05 and abs(heading - steps * v * k * dt) < 1e-9


def test_the_human_driver_keeps_a_vehicle_in_its_lane_step_by_step() -> None:
    config = _config()
    road = make_road(np.random.default_rng(4), 800.0, 3.5, 30.0, 300.0)
    vehicle = Vehicle(config, road)
    driver = HumanDriver(config, np.random.default_rng(5), 0.01)
    errors = []
    for _ in range(4000):  # 40 s
        state = vehicle.advance(driver.step(vehicle, 0.6), 0.01)  # the autonomous wander
        errors.append(state.lateral_error)
    errors_m = np.abs(errors)
    assert vehicle.state.pose.road_s > 200.0
    assert errors_m.max() < 0.85 and errors_m.mean() > 0.02  # it wanders, inside the lane


def test_a_straight_command_on_a_curve_leaves_the_lane() -> None:
    config = _config()
    road = make_road(np.random.default_rng(4), 800.0, 3.5, 30.0, 60.0)
    vehicle = Vehicle(config, road)
    for _ in range(3000):
        state = vehicle.advance(0.0, 0.01)
        if abs(state.lateral_error) > 2.0:
            break
    assert abs(vehicle.state.lateral_error) > 2.0


def test_a_renderer_without_a_drive_draws_the_drives_frame_from_the_same_pose() -> None:
    drive = simulate_drive(_config(seed=3))
    with_drive = Renderer(drive)
    from_road = Renderer(config=drive.config, road=drive.road)
    cam = drive.camera
    for i in (0, 60, 150):
        pose = Pose(float(cam.x[i]), float(cam.y[i]), float(cam.heading[i]), float(cam.road_s[i]))
        t = (int(cam.stamps_ns[i]) - drive.start_ns) * 1e-9
        np.testing.assert_array_equal(from_road.render_pose(pose, t, i), with_drive.render(i))
    moved = Pose(
        float(cam.x[60]) + 0.5, float(cam.y[60]), float(cam.heading[60]), float(cam.road_s[60])
    )
    assert not np.array_equal(from_road.render_pose(moved, 4.0, 60), with_drive.render(60))


def test_band_only_rendering_gives_the_crop_of_the_whole_frame() -> None:
    # The default model's frames: 1208 x 1920 rendered at 0.4 and upscaled.
    drive = simulate_drive(DriveConfig(seed=7, duration_s=12.0, takeover_count=0))
    whole = Renderer(drive)
    band = Renderer(drive, crop=PAPER_PREPROCESSING)
    assert band.window is not None
    a, b, c, d = band.window
    assert (b - a) * (d - c) < 0.2 * band.rh * band.rw  # a fifth of the pixels, or less
    for i in (0, 90):
        framed = band.render(i)
        np.testing.assert_array_equal(
            crop_and_resize(framed, PAPER_PREPROCESSING),
            crop_and_resize(whole.render(i), PAPER_PREPROCESSING),
        )
        assert framed[:100].max() == 0  # the sky is not drawn

"""The closed loop itself: who takes over where, the expert, noise, the car's own pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sim_helpers import small_settings

from ncp_driver.bags.typestore import make_typestore
from ncp_driver.images import decode_cropped
from ncp_driver.preprocessing import to_model_input
from ncp_driver.replay.noise import InputNoise
from ncp_driver.runtime import PipelineConfig, SteeringPipeline
from ncp_driver.sim import drive_closed_loop, make_world, run_figures
from ncp_driver.synth.messages import camera_message
from ncp_driver.synth.render import Renderer
from ncp_driver.synth.road import LEAD_IN_M
from ncp_driver.synth.vehicle import Vehicle


def _pipeline(path: Path) -> SteeringPipeline:
    return SteeringPipeline(PipelineConfig(model_path=str(path)))


def _curves(road, start: float, end: float, max_radius: float) -> list[tuple[float, float]]:
    """(start of the transition into it, end) arc length of every arc of radius < ``max_radius``."""
    s, k = road.knots_s, road.knots_curvature
    return [
        (float(s[j - 1]), float(s[j + 1]))
        for j in range(1, len(s) - 1)
        if k[j] != 0 and k[j] == k[j + 1] and abs(k[j]) > 1.0 / max_radius
        and start < s[j] and s[j + 1] < end
    ]  # fmt: skip


def test_a_zero_curvature_model_leaves_the_lane_on_every_tight_curve(zero_model: Path) -> None:
    settings = small_settings(road_m=600.0)
    world = make_world(settings, 300)
    run = drive_closed_loop(world, settings, _pipeline(zero_model), 0.0, 0.005, make_typestore())
    figures = run_figures(run, settings.mode_hz, settings.odometry_hz)
    curves = _curves(world.road, 10.0, world.end_s, 150.0)
    assert len(curves) >= 3, "the test road must have curves of radius below 150 m"
    taken = np.asarray(figures["takeover_road_s_m"])
    for a, b in curves:  # the car leaves its lane going into or through every one of them
        assert ((taken >= a) & (taken <= b)).any(), f"no takeover on the curve {a:.0f}-{b:.0f} m"
    assert taken[0] > LEAD_IN_M  # and not on the straight the road starts with
    assert figures["takeovers"] >= len(curves)


def test_the_expert_has_no_takeover_on_the_test_roads() -> None:
    settings = small_settings(roads=3, road_m=400.0)
    for seed in settings.road_seeds:
        run = drive_closed_loop(make_world(settings, seed), settings, None, 0.0, 0.0, None)
        figures = run_figures(run, settings.mode_hz, settings.odometry_hz)
        assert figures["takeovers"] == 0, seed
        assert figures["autonomous_m"] > 0.9 * 400.0 - 30.0
        assert figures["lateral_offset_max_m"] < settings.offset_limit(3.5)


def test_frames_go_through_the_cars_pipeline(
    zero_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"image": 0}
    original = SteeringPipeline.process_image

    def counted(self: SteeringPipeline, msg: object, now: float | None = None) -> object:
        calls["image"] += 1
        assert type(msg).__name__ == "sensor_msgs__msg__Image"  # a real rosbags message
        return original(self, msg, now)

    monkeypatch.setattr(SteeringPipeline, "process_image", counted)
    settings = small_settings(road_m=120.0)
    run = drive_closed_loop(
        make_world(settings, 300), settings, _pipeline(zero_model), 0.0, 0.0, make_typestore()
    )
    assert calls["image"] == run.frame_count == len(run.frames.status) > 100
    assert set(run.frames.status) == {"ok"}


def test_noise_is_the_replays_noise_before_the_pipeline_and_seeded(toy_path: Path) -> None:
    settings = small_settings(road_m=100.0, noise_seed=5)
    world = make_world(settings, 301)
    store = make_typestore()

    def raw(std: float, seed: int = 5) -> np.ndarray:
        s = small_settings(road_m=100.0, noise_seed=seed)
        run = drive_closed_loop(world, s, _pipeline(toy_path), std, 0.0, store)
        return np.asarray(run.frames.raw_curvature)

    clean, noisy = raw(0.0), raw(0.2)
    np.testing.assert_array_equal(noisy, raw(0.2))  # seeded: the same again
    assert not np.array_equal(noisy, clean)
    assert not np.array_equal(noisy, raw(0.2, seed=6))
    # Frame 0 by hand: the pipeline's decode and preprocessing, InputNoise, then the pipeline.
    pipe = _pipeline(toy_path)
    renderer = Renderer(config=world.config, road=world.road, crop=pipe.spec)
    pose = Vehicle(world.config, world.road).state.pose
    stamp_ns = round(world.config.start_epoch_s * 1e9)
    msg = camera_message(store, renderer.render_pose(pose, 0.0, 0), stamp_ns, 0).msg
    clean_input = to_model_input(decode_cropped(msg, pipe.spec, True), pipe.spec)
    admitted = pipe.prepare(msg)  # the one admission step; the input is the one made by hand
    result = pipe.process_prepared(admitted, model_input=InputNoise(0.2, 5)(clean_input))
    assert result.command is not None
    assert result.command.raw_curvature == pytest.approx(noisy[0], abs=1e-9)

"""SteeringPipeline with real onnxruntime sessions: state, resets, watchdog, rejects, limits."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from runtime_models import ToyWeights, reference_step

from ncp_driver.errors import ConfigError
from ncp_driver.images import decode_image, jpeg_reduce_factor
from ncp_driver.images.messages import compressed_message, image_message
from ncp_driver.preprocessing import crop_and_resize, to_model_input
from ncp_driver.runtime import FrameResult, PipelineConfig, SteeringModel, SteeringPipeline

WEIGHTS = ToyWeights.make()
# Generous limits so that the model's raw curvature passes unchanged unless a test says so.
OPEN = PipelineConfig(max_curvature=10.0, max_curvature_rate=1000.0, warmup_runs=1)


def camera_frames(count: int, seed: int = 0, brightness: float = 1.0) -> list[np.ndarray]:
    """Textured 120 x 200 RGB frames whose mean colour varies from frame to frame."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        tint = rng.uniform(0.2, 1.0, 3) * brightness
        noise = rng.random((120, 200, 3))
        out.append(np.clip(noise * tint * 255, 0, 255).astype(np.uint8))
    return out


def model_input(rgb: np.ndarray) -> np.ndarray:
    return to_model_input(crop_and_resize(rgb))


class Reference:
    """The toy's expected outputs, given the elapsed times the pipeline should feed."""

    def __init__(self) -> None:
        self.state = np.zeros(8)

    def reset(self) -> None:
        self.state = np.zeros(8)

    def step(self, rgb: np.ndarray, elapsed: float) -> float:
        curvature, self.state, _ = reference_step(WEIGHTS, model_input(rgb), self.state, elapsed)
        return curvature


def pipeline(path: Path, config: PipelineConfig = OPEN, **changes: object) -> SteeringPipeline:
    config = dataclasses.replace(config, **changes)  # type: ignore[arg-type]
    return SteeringPipeline(config, SteeringModel.load(path, config))


# The toy runs in float32 against a float64 reference: its frame mean (15,600 values summed in
# float32) differs by about 1e-6, which the weights amplify to about 1e-5. A wrong elapsed time
# or a missed reset moves the outputs by 1e-3 or more.
TOL = 1e-4


def assert_matches(result: FrameResult, ref: Reference, curvature: float) -> None:
    assert result.status == "ok" and result.command is not None
    assert result.command.raw_curvature == pytest.approx(curvature, abs=TOL)
    assert result.neurons is not None
    np.testing.assert_allclose(result.neurons, ref.state, atol=TOL)


def test_state_persists_with_elapsed_time_from_stamps(toy_path: Path) -> None:
    pipe = pipeline(toy_path)
    pipe.set_autonomous(True)
    ref = Reference()
    # Regular 30 Hz, a 0.7 s gap (clamped to max_elapsed_s 0.5, below reset_gap_s 1.0), a
    # 0.2 ms gap (clamped to min_elapsed_s 1 ms), then irregular gaps.
    gaps = [1 / 30] * 10 + [0.7, 0.0002] + [0.02, 0.05, 0.04, 0.1] * 5
    stamps = list(100.0 + np.cumsum([0.0, *gaps]))
    for i, (rgb, stamp) in enumerate(zip(camera_frames(len(stamps)), stamps, strict=True)):
        result = pipe.process_frame(rgb, stamp)
        expected_elapsed = 1 / 30 if i == 0 else min(max(stamp - stamps[i - 1], 0.001), 0.5)
        assert result.elapsed_s == pytest.approx(expected_elapsed)
        assert_matches(result, ref, ref.step(rgb, expected_elapsed))
        assert result.reset_reason == ("start" if i == 0 else None)
        assert result.command is not None and result.command.stamp == stamp
    assert pipe.stats.resets == {"start": 1}


def test_image_messages_take_the_same_path_as_frames(toy_path: Path) -> None:
    by_msg, by_frame = pipeline(toy_path), pipeline(toy_path)
    for i, rgb in enumerate(camera_frames(6)):
        stamp = 5.0 + i / 30
        a = by_msg.process_image(image_message(rgb, stamp, "bgr8", row_padding=3))
        b = by_frame.process_frame(rgb, stamp)
        assert a.command is not None and b.command is not None
        assert a.stamp == pytest.approx(stamp) and a.command.curvature == b.command.curvature


def test_compressed_images_are_decoded_at_reduced_scale(toy_path: Path) -> None:
    pipe, ref = pipeline(toy_path), Reference()
    big = np.kron(camera_frames(1)[0], np.ones((8, 8, 1), np.uint8))  # 960 x 1600
    assert jpeg_reduce_factor(pipe.spec, 960, 1600) == 2
    msg = compressed_message(big, 1.0)
    result = pipe.process_image(msg)
    assert_matches(result, ref, ref.step(decode_image(msg, reduce=2), 1 / 30))
    full = pipeline(toy_path, reduced_jpeg_decode=False).process_image(msg)
    assert full.command is not None and result.command is not None
    assert full.command.raw_curvature != result.command.raw_curvature


def reset_case(path: Path, trigger: str) -> tuple[FrameResult, Reference, np.ndarray]:
    """Run 8 frames, apply ``trigger``, run one more; return its result and the reference."""
    pipe = pipeline(path)
    pipe.set_autonomous(True)
    frames = camera_frames(9, seed=4)
    for i in range(8):
        pipe.process_frame(frames[i], 10.0 + i / 30)
    stamp = 10.0 + 8 / 30
    if trigger == "gap":
        stamp += 1.5
    elif trigger == "backwards":
        stamp = 9.0
    elif trigger == "engage":
        pipe.set_autonomous(False)
        pipe.set_autonomous(True, stamp=stamp)
    elif trigger == "service":
        pipe.reset_state("service")
    result = pipe.process_frame(frames[8], stamp)
    ref = Reference()
    ref.step(frames[8], 1 / 30)
    assert pipe.stats.resets == {"start": 1, trigger: 1}
    return result, ref, frames[8]


@pytest.mark.parametrize("trigger", ["gap", "backwards", "engage", "service"])
def test_each_trigger_resets_the_state(toy_path: Path, trigger: str) -> None:
    result, ref, _ = reset_case(toy_path, trigger)
    assert result.reset_reason == trigger
    assert result.elapsed_s == pytest.approx(1 / 30)  # default_elapsed_s after a reset
    assert result.neurons is not None
    np.testing.assert_allclose(result.neurons, ref.state, atol=TOL)  # from a zero state


def test_without_a_trigger_the_state_is_not_reset(toy_path: Path) -> None:
    pipe = pipeline(toy_path)
    pipe.set_autonomous(True)
    results = [pipe.process_frame(f, 10.0 + i / 30) for i, f in enumerate(camera_frames(9, seed=4))]
    fresh = Reference()
    fresh.step(camera_frames(9, seed=4)[8], 1 / 30)
    assert results[-1].neurons is not None
    assert np.abs(results[-1].neurons - fresh.state).max() > 1e-3  # carried state differs


def test_manual_frames_reset_every_frame_in_reset_mode(toy_path: Path) -> None:
    pipe = pipeline(toy_path)  # manual_mode "reset"; not autonomous
    ref = Reference()
    for i, rgb in enumerate(camera_frames(5)):
        result = pipe.process_frame(rgb, 1.0 + i / 30)
        ref.reset()
        assert_matches(result, ref, ref.step(rgb, 1 / 30))
        assert result.reset_reason == ("start" if i == 0 else "manual")
        assert result.command is not None and not result.command.autonomous
    assert pipe.stats.resets == {"start": 1, "manual": 4}


def test_shadow_mode_keeps_the_state_warm_through_engage(toy_path: Path) -> None:
    shadow = pipeline(toy_path, manual_mode="shadow")
    always = pipeline(toy_path)
    always.set_autonomous(True)
    for i, rgb in enumerate(camera_frames(10)):
        if i == 6:
            shadow.set_autonomous(True, stamp=1.0 + i / 30)
        a = shadow.process_frame(rgb, 1.0 + i / 30)
        b = always.process_frame(rgb, 1.0 + i / 30)
        assert a.command is not None and b.command is not None
        assert a.command.raw_curvature == b.command.raw_curvature
        assert a.command.autonomous == (i >= 6)
    assert shadow.stats.resets == {"start": 1}
    assert shadow.mode_changed_at == pytest.approx(1.2)


def test_nonfinite_output_gives_no_command_and_resets(nan_path: Path) -> None:
    pipe = pipeline(nan_path)
    pipe.set_autonomous(True)
    dark = camera_frames(6, seed=2, brightness=0.5)
    bright = np.full((120, 200, 3), 230, np.uint8)  # mean 0.9 > 0.6: NaN
    for i in range(3):
        assert pipe.process_frame(dark[i], 1.0 + i / 30).status == "ok"
    bad = pipe.process_frame(bright, 1.0 + 3 / 30)
    assert bad.status == "nonfinite" and bad.command is None and bad.neurons is None
    assert "not finite" in bad.reason
    np.testing.assert_array_equal(pipe.model.state, np.zeros(8, np.float32))
    after = pipe.process_frame(dark[4], 1.0 + 4 / 30)
    ref = Reference()
    assert after.reset_reason == "nonfinite"
    assert_matches(after, ref, ref.step(dark[4], 1 / 30))
    stats = pipe.stats
    assert stats.nonfinite_outputs == 1 and stats.resets["nonfinite"] == 1
    assert stats.frames_processed == 5 and stats.commands == 4
    assert pipe.watchdog_tripped(1.0 + 4 / 30) is False


def test_watchdog_stops_commands_until_fresh_frames_arrive(toy_path: Path) -> None:
    pipe = pipeline(toy_path)
    frames = camera_frames(6)
    assert pipe.watchdog_tripped(0.0)  # nothing yet
    ok = pipe.process_frame(frames[0], 10.0, now=10.01)
    assert ok.status == "ok" and not pipe.watchdog_tripped(10.4)
    assert pipe.watchdog_tripped(10.6)  # 0.59 s since the last usable frame
    # Frames that arrive late (0.7 s old) are stale: no command, watchdog stays tripped.
    for i in (1, 2):
        late = pipe.process_frame(frames[i], 10.0 + i / 30, now=10.7 + i / 30)
        assert late.status == "stale" and late.command is None and "old on arrival" in late.reason
        assert pipe.watchdog_tripped(10.7 + i / 30)
    fresh = pipe.process_frame(frames[3], 10.8, now=10.82)
    assert fresh.status == "ok" and fresh.command is not None and fresh.command.stamp == 10.8
    assert not pipe.watchdog_tripped(10.83)
    stats = pipe.stats
    assert stats.frames_stale == 2 and stats.frames_in == 4 and stats.frames_processed == 2


def test_corrupt_and_bad_frames_are_skipped_and_counted(toy_path: Path) -> None:
    pipe, ref = pipeline(toy_path), Reference()
    pipe.set_autonomous(True)
    frames = camera_frames(4)
    assert_matches(
        pipe.process_image(image_message(frames[0], 1.0)), ref, ref.step(frames[0], 1 / 30)
    )
    jpeg = compressed_message(frames[1], 1.0 + 1 / 30)
    jpeg.data = jpeg.data[: jpeg.data.size // 2]
    unknown = image_message(frames[1], 1.0 + 1.5 / 30)
    unknown.encoding = "hsv8"
    short = image_message(frames[1], 1.0 + 1.7 / 30)
    short.data = short.data[:-1]
    reasons = []
    for msg in (jpeg, unknown, short, object()):
        result = pipe.process_image(msg)
        assert result.status == "rejected" and result.command is None
        reasons.append(result.reason)
    assert "truncated" in reasons[0] and "unknown image encoding" in reasons[1]
    assert "data holds" in reasons[2] and "no header.stamp" in reasons[3]
    assert pipe.process_frame(np.zeros((5, 5), np.uint8), 1.06).status == "rejected"
    assert pipe.process_frame(frames[2], math.nan).status == "rejected"
    # The state is as if the bad frames never came.
    result = pipe.process_image(image_message(frames[2], 1.0 + 2 / 30))
    assert_matches(result, ref, ref.step(frames[2], 2 / 30))
    assert pipe.stats.frames_rejected == 6 and pipe.stats.frames_processed == 2


def test_a_repeated_stamp_is_rejected(toy_path: Path) -> None:
    pipe = pipeline(toy_path)
    rgb = camera_frames(1)[0]
    assert pipe.process_frame(rgb, 3.0).status == "ok"
    again = pipe.process_frame(rgb, 3.0)
    assert again.status == "rejected" and "repeats" in again.reason


def test_limits_clip_and_are_reported(toy_path: Path) -> None:
    pipe = pipeline(toy_path, max_curvature=1e-4, max_lateral_accel=1.0)
    pipe.set_autonomous(True)
    frames = camera_frames(6)
    held = pipe.process_frame(frames[5], 0.5)  # no speed yet: the lateral limit cannot hold
    assert held.status == "ok" and held.command is None and "no current speed" in held.reason
    assert pipe.stats.limit_counts["speed_unknown"] == 1
    pipe.set_speed(1.0)  # 1 / 1^2 = 1: looser than max_curvature
    raw = pipe.process_frame(frames[0], 1.0).command
    assert raw is not None and abs(raw.raw_curvature) > 1e-4
    assert raw.curvature == math.copysign(1e-4, raw.raw_curvature)
    assert raw.limits_active == ("max_curvature",)
    assert raw.steering_angle == pytest.approx(math.atan(2.7 * raw.curvature))
    pipe.set_speed(200.0)  # 1 / 200^2 = 2.5e-5
    fast = pipe.process_frame(frames[1], 1.0 + 1 / 3).command
    assert fast is not None and abs(fast.curvature) == pytest.approx(2.5e-5)
    assert "max_lateral_accel" in fast.limits_active
    counts = pipe.stats.limit_counts
    assert counts["max_curvature"] == 1 and counts["max_lateral_accel"] == 1


def test_rate_limit_applies_between_frames(toy_path: Path) -> None:
    pipe = pipeline(toy_path, max_curvature_rate=0.01)
    pipe.set_autonomous(True)
    commands = []
    for i, rgb in enumerate(camera_frames(8)):
        result = pipe.process_frame(rgb, 1.0 + i / 30)
        assert result.command is not None
        commands.append(result.command)
    for a, b in itertools.pairwise(commands):
        assert abs(b.curvature - a.curvature) <= 0.01 / 30 + 1e-12
    assert any("max_curvature_rate" in c.limits_active for c in commands)


def test_dropped_frames_are_estimated_and_noted(toy_path: Path) -> None:
    pipe = pipeline(toy_path)
    frames = camera_frames(12)
    ticks = [0, 1, 2, 3, 4, 5, 8, 9, 10, 13, 14]  # 2 + 2 frames missing
    results = [pipe.process_frame(frames[k], 50.0 + t / 30) for k, t in enumerate(ticks)]
    assert [r.dropped for r in results].count(2) == 2
    pipe.note_dropped(3)
    stats = pipe.stats
    assert stats.frames_dropped == 7
    assert stats.nominal_period_s == pytest.approx(1 / 30)


def test_stats_name_the_provider_and_the_model(toy_path: Path) -> None:
    config = dataclasses.replace(OPEN, model_path=str(toy_path))
    pipe = SteeringPipeline(config)
    result = pipe.process_frame(camera_frames(1)[0], 0.0)
    stats = pipe.stats
    assert stats.provider == "cpu"
    assert stats.model_hash == hashlib.sha256(toy_path.read_bytes()).hexdigest()
    assert result.preprocess_s + result.inference_s <= result.total_s
    stats.resets["start"] = 99  # a snapshot: the pipeline's own figures are untouched
    assert pipe.stats.resets["start"] == 1


def test_a_pipeline_needs_a_model() -> None:
    with pytest.raises(ConfigError, match="model_path is empty"):
        SteeringPipeline(PipelineConfig())


def test_runs_without_torch_onnx_or_rosbags(toy_path: Path) -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'rclpy', 'onnx', 'rosbags', 'h5py'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import numpy as np\n"
        "from ncp_driver.runtime import PipelineConfig, SteeringPipeline\n"
        "from ncp_driver.images.messages import image_message, compressed_message\n"
        f"pipe = SteeringPipeline(PipelineConfig(model_path={str(toy_path)!r}))\n"
        "rgb = np.full((120, 200, 3), 90, np.uint8)\n"
        "a = pipe.process_image(image_message(rgb, 1.0, 'bgr8'))\n"
        "b = pipe.process_image(compressed_message(rgb, 1.05))\n"
        "print(a.status, b.status)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ok", "ok"]


def test_a_frame_stamped_in_the_future_is_rejected(toy_path: Path) -> None:
    pipe = pipeline(toy_path)
    pipe.set_autonomous(True)
    frames = camera_frames(2)
    ahead = pipe.process_frame(frames[0], 20.6, now=20.0)  # stamped 0.6 s after it arrived
    assert ahead.status == "rejected" and ahead.command is None and "clock is ahead" in ahead.reason
    assert pipe.process_frame(frames[1], 20.1, now=20.12).status == "ok"


def test_the_rate_limit_holds_across_state_resets(nan_path: Path) -> None:
    """A NaN, the reset service or engaging resets the network, not the steering's rate."""
    pipe = pipeline(nan_path, max_curvature_rate=0.01)
    pipe.set_autonomous(True)
    dark = camera_frames(8, seed=2, brightness=0.5)
    bright = np.full((120, 200, 3), 230, np.uint8)  # NaN
    stamps = [1.0 + i / 30 for i in range(8)]
    results = [pipe.process_frame(dark[0], stamps[0]), pipe.process_frame(dark[1], stamps[1])]
    results.append(pipe.process_frame(bright, stamps[2]))  # nonfinite: reset, no command
    results.append(pipe.process_frame(dark[3], stamps[3]))
    pipe.reset_state("service")
    results.append(pipe.process_frame(dark[4], stamps[4]))
    pipe.set_autonomous(False)
    results.append(pipe.process_frame(dark[5], stamps[5]))  # manual: reset every frame
    pipe.set_autonomous(True)  # engage: reset
    results.append(pipe.process_frame(dark[6], stamps[6]))
    sent = [(r.stamp, r.command.curvature) for r in results if r.command is not None]
    assert len(sent) == 6 and [r.reset_reason for r in results][3:] == [
        "nonfinite",
        "service",
        "manual",
        "engage",
    ]
    for (t0, k0), (t1, k1) in itertools.pairwise(sent):
        assert abs(k1 - k0) <= 0.01 * (t1 - t0) + 1e-12

"""Damaged and hostile inputs to the pipeline (issue 10): no exception, no silent command.

Real onnxruntime sessions of the toy model; the fuzz cases are seeded and small (seconds).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np
import pytest
from runtime_models import ToyWeights, save, toy_model

from ncp_driver.errors import ModelContractError
from ncp_driver.images.messages import (
    CompressedImage,
    Header,
    Image,
    Time,
    compressed_message,
    image_message,
)
from ncp_driver.runtime import PipelineConfig, SteeringModel, SteeringPipeline
from ncp_driver.runtime.pipeline import PreparedFrame

OPEN = PipelineConfig(max_curvature=10.0, max_curvature_rate=1000.0, warmup_runs=1)


def frames(count: int, seed: int = 0, size: tuple[int, int] = (120, 200)) -> list[np.ndarray]:
    """Smooth random frames (JPEG-friendly) whose mean colour varies."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        base = rng.random((size[0] // 8, size[1] // 8, 3)) * rng.uniform(0.2, 1.0, 3)
        big = np.kron(base, np.ones((8, 8, 1))) * 255
        out.append(np.clip(big + rng.normal(0, 8, big.shape), 0, 255).astype(np.uint8))
    return out


def pipeline(path: Path, **changes: Any) -> SteeringPipeline:
    config = dataclasses.replace(OPEN, **changes)
    return SteeringPipeline(config, SteeringModel.load(path, config))


# -- item 2: the rate limit in receipt time ----------------------------------------------------
def test_a_frame_stamped_ahead_of_the_clock_buys_no_extra_steering(toy_path: Path) -> None:
    """Frames 33 ms apart on receipt; one stamped 0.4 s ahead (accepted: under the watchdog).
    Every command moves at most max_curvature_rate x the receipt interval, and the frame after
    the future-stamped one (stamps going backwards) does not lift the limit."""
    rate = 0.01
    pipe = pipeline(toy_path, max_curvature_rate=rate)
    pipe.set_autonomous(True)
    images = frames(12, seed=3)
    last: tuple[float, float] | None = None
    moved = []
    for i, rgb in enumerate(images):
        now = 100.0 + i / 30
        stamp = now + (0.4 if i == 5 else 0.0)
        result = pipe.process_frame(rgb, stamp, now=now)
        assert result.status == "ok" and result.command is not None, result.reason
        if last is not None:
            allowed = rate * (now - last[0])
            assert abs(result.command.curvature - last[1]) <= allowed + 1e-9
            moved.append(abs(result.command.raw_curvature - last[1]) > allowed)
        last = (now, result.command.curvature)
    assert any(moved)  # the model did ask for more than the limit allows


def test_stamps_going_backwards_keep_the_rate_limit(toy_path: Path) -> None:
    pipe = pipeline(toy_path, max_curvature_rate=0.01)
    images = frames(3, seed=5)
    first = pipe.process_frame(images[0], 50.0)
    pipe.process_frame(images[1], 50.0 + 1 / 30)
    back = pipe.process_frame(images[2], 10.0)  # a new stamp timeline
    assert back.reset_reason == "backwards" and back.command is not None
    assert first.command is not None
    assert abs(back.command.curvature - first.command.curvature) <= 0.01 / 30 + 1e-9


# -- item 3: a model that is not finite at start -----------------------------------------------
@pytest.fixture(scope="module")
def nan_weights_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    weights = ToyWeights.make()
    bad = dataclasses.replace(weights, c=np.full_like(weights.c, np.nan))
    return save(toy_model(bad), tmp_path_factory.mktemp("nan") / "nan_weights.onnx")


@pytest.mark.parametrize("warmup_runs", [0, 3])
def test_a_model_with_nan_weights_is_refused_at_start(
    nan_weights_path: Path, warmup_runs: int
) -> None:
    config = PipelineConfig(model_path=str(nan_weights_path), warmup_runs=warmup_runs)
    with pytest.raises(ModelContractError, match="not finite"):
        SteeringPipeline(config)
    with pytest.raises(ModelContractError, match="not finite"):
        SteeringModel.load(nan_weights_path, config)


def test_the_start_check_leaves_the_model_fresh(toy_path: Path) -> None:
    """The check's step does not leak into the first frame (same result as no check)."""
    a, b = pipeline(toy_path, warmup_runs=0), pipeline(toy_path, warmup_runs=0)
    rgb = frames(1)[0]
    ra, rb = a.process_frame(rgb, 1.0), b.process_frame(rgb, 1.0)
    assert ra.command is not None and rb.command is not None
    assert ra.command.raw_curvature == rb.command.raw_curvature
    assert not np.any(a.model.frame_input[0] != b.model.frame_input[0])


# -- item 4: non-finite receipt times ------------------------------------------------------------
@pytest.mark.parametrize("now", [math.nan, math.inf, -math.inf])
def test_a_non_finite_receipt_time_is_rejected_and_trips_the_watchdog(
    toy_path: Path, now: float
) -> None:
    pipe = pipeline(toy_path)
    images = frames(3)
    assert pipe.process_frame(images[0], 10.0, now=10.0).ok
    bad = pipe.process_frame(images[1], 10.04, now=now)
    assert bad.status == "rejected" and "receipt time" in bad.reason
    assert pipe.stats.rejections == {"receipt_time": 1}
    assert pipe.watchdog_tripped(now)
    assert not pipe.watchdog_tripped(10.1)  # the good frame still counts
    assert pipe.watchdog_tripped(10.6)  # and the watchdog still runs out


# -- item 5: damaged JPEGs and the frame-size lock ----------------------------------------------
def _sof(data: bytes) -> int:
    for marker in (b"\xff\xc0", b"\xff\xc1", b"\xff\xc2"):
        if marker in data:
            return data.index(marker)
    raise AssertionError("no SOF")


def test_damaged_jpegs_are_rejected(toy_path: Path) -> None:
    rgb = frames(1, size=(240, 384))[0]
    good = compressed_message(rgb, 1.0)
    data = bytes(good.data)
    at = _sof(data)
    claims = bytearray(data)
    claims[at + 5 : at + 9] = (8000).to_bytes(2, "big") * 2  # header: 8000 x 8000
    cut = data[: len(data) // 2] + b"\xff\xd9"  # cut in half, end marker appended
    pipe = pipeline(toy_path)
    assert pipe.process_image(good).ok
    for i, damaged in enumerate((bytes(claims), cut)):
        msg = dataclasses.replace(good, data=np.frombuffer(damaged, np.uint8))
        msg.header = Header(Time(2 + i, 0))
        result = pipe.process_image(msg)
        assert result.status == "rejected" and result.command is None
        assert "corrupt JPEG" in result.reason or "header says" in result.reason
    assert pipe.stats.rejections == {"undecodable": 2}


def test_a_frame_of_another_size_is_rejected_until_the_reset_service(toy_path: Path) -> None:
    pipe = pipeline(toy_path)
    small, big = frames(1, size=(120, 200))[0], frames(1, size=(240, 400), seed=1)[0]
    assert pipe.process_image(image_message(small, 1.0)).ok
    other = pipe.process_image(image_message(big, 1.04))
    assert other.status == "rejected" and "200 x 120" in other.reason
    assert pipe.stats.rejections == {"size_changed": 1}
    assert pipe.process_image(image_message(small, 1.08)).ok
    pipe.reset_state("engage")  # not the user's reset: the lock holds
    assert pipe.process_image(image_message(big, 1.12)).status == "rejected"
    pipe.reset_state("service")  # the reset a user asks for releases it
    assert pipe.process_image(image_message(big, 1.16)).ok
    assert pipe.process_image(image_message(small, 1.2)).status == "rejected"


def test_the_first_frame_locks_only_when_good(toy_path: Path) -> None:
    pipe = pipeline(toy_path)
    small, big = frames(1, size=(120, 200))[0], frames(1, size=(240, 400), seed=1)[0]
    assert pipe.process_frame(big, 5.0, now=9.0).status == "stale"
    assert pipe.process_frame(small, 9.0).ok
    assert pipe.process_frame(big, 9.04).status == "rejected"


# -- item 6: wrongly typed fields ----------------------------------------------------------------
def _image(**fields: Any) -> Image:
    msg = image_message(frames(1)[0], 3.0)
    for name, value in fields.items():
        setattr(msg, name, value)
    return msg


BAD_FIELDS = {
    "height None": {"height": None},
    "width str": {"width": "200"},
    "step nan": {"step": math.nan},
    "step float": {"step": 600.0},
    "negative height": {"height": -120},
    "huge width": {"width": 2**40},
    "data of strings": {"data": ["a"] * 72000},
    "data of floats": {"data": [1.5] * 72000},
    "data of integral floats": {"data": [1.0] * 72000},
    "data of bools": {"data": np.ones(72000, bool)},
    "data None": {"data": None},
    "data 2-D": {"data": np.zeros((120, 600), np.uint8).tolist()},
    "encoding None": {"encoding": None},
    "huge sec": {"header": Header(Time(10**30, 0))},
    "nanosec out of range": {"header": Header(Time(3, 2_000_000_000))},
    "sec float with a fraction": {"header": Header(Time(3.5, 0))},  # type: ignore[arg-type]
    "sec nan": {"header": Header(Time(math.nan, 0))},  # type: ignore[arg-type]
    "no header": {"header": None},
}


@pytest.mark.parametrize("name", list(BAD_FIELDS))
def test_a_wrongly_typed_field_is_rejected_and_counted(toy_path: Path, name: str) -> None:
    pipe = pipeline(toy_path)
    result = pipe.process_image(_image(**BAD_FIELDS[name]))
    assert result.status == "rejected" and result.command is None and result.reason
    stats = pipe.stats
    assert stats.frames_in == 1 and stats.frames_rejected == 1
    assert sum(stats.rejections.values()) == 1


def test_seeded_fuzz_never_raises_nor_commands_a_bad_frame(toy_path: Path) -> None:
    """300 messages with random fields replaced or bytes flipped: process_image never raises,
    never commands a non-finite or out-of-limit value, and counts every frame."""
    rng = np.random.default_rng(20260101)
    config = PipelineConfig(warmup_runs=0)  # the car's limits
    pipe = SteeringPipeline(config, SteeringModel.load(toy_path, config))
    pipe.set_autonomous(True)
    raw = image_message(frames(1)[0], 0.0)
    jpeg = compressed_message(frames(1, seed=2)[0], 0.0)
    values: list[Any] = [None, -1, 0, 2**63, math.nan, math.inf, "x", 1.5, b"", [], [1, 2]]
    last_command: tuple[float, float] | None = None
    for i in range(300):
        stamp = 1.0 + i / 30
        base: Any = dataclasses.replace(raw if i % 2 else jpeg)
        base.header = Header(Time(int(stamp), round(stamp % 1 * 1e9) % 1_000_000_000))
        data = np.array(base.data, np.uint8)
        kind = rng.integers(4)
        if kind == 0:  # a field replaced by a value of another type
            name = rng.choice([f.name for f in dataclasses.fields(base) if f.name != "header"])
            setattr(base, str(name), values[rng.integers(len(values))])
        elif kind == 1:  # bytes overwritten
            start = int(rng.integers(data.size))
            data[start : start + int(rng.integers(1, 64))] = rng.integers(0, 256, 1)
            base.data = data
        elif kind == 2:  # cut short
            base.data = data[: int(rng.integers(data.size))]
        result = pipe.process_image(base, now=stamp)
        if result.command is not None:
            assert math.isfinite(result.command.curvature)
            assert abs(result.command.curvature) <= config.max_curvature + 1e-12
            if last_command is not None:
                step = config.max_curvature_rate * (stamp - last_command[0])
                assert abs(result.command.curvature - last_command[1]) <= step + 1e-9
            last_command = (stamp, result.command.curvature)
    stats = pipe.stats
    assert stats.frames_in == 300
    assert stats.frames_in == stats.frames_processed + stats.frames_rejected + stats.frames_stale
    assert stats.frames_rejected == sum(stats.rejections.values()) > 50


# -- item 10: encodings the model was not trained for -------------------------------------------
@pytest.mark.parametrize("encoding", ["16UC1", "8UC1", "mono16", "mono8"])
def test_a_depth_or_mono_stream_is_refused_by_a_colour_model(toy_path: Path, encoding: str) -> None:
    height, width = 120, 200
    size = 2 if "16" in encoding else 1
    msg = Image(
        Header(Time(4, 0)), height, width, encoding, 0, width * size,
        np.full(height * width * size, 90, np.uint8),
    )  # fmt: skip
    pipe = pipeline(toy_path)
    result = pipe.process_image(msg)
    assert result.status == "rejected" and encoding in result.reason
    assert "colour" in result.reason and pipe.stats.rejections == {"encoding": 1}


def _compressed(fmt: str, pixels: np.ndarray, ext: str) -> CompressedImage:
    ok, data = cv2.imencode(ext, pixels)
    assert ok
    return CompressedImage(Header(Time(4, 0)), fmt, data.reshape(-1))


@pytest.mark.parametrize(
    ("fmt", "pixels", "ext", "named"),
    [
        ("16UC1; png compressed ", np.full((120, 200), 3000, np.uint16), ".png", "16UC1"),
        ("png", np.full((120, 200), 3000, np.uint16), ".png", "mono16"),  # format says nothing
        ("mono8; jpeg compressed ", np.full((120, 200), 90, np.uint8), ".jpg", "mono8"),
        ("rgb8; jpeg compressed bgr8", np.full((120, 200), 90, np.uint8), ".jpg", "mono8"),
    ],
)
def test_a_compressed_depth_or_mono_stream_is_refused(
    toy_path: Path, fmt: str, pixels: np.ndarray, ext: str, named: str
) -> None:
    """As a real Spot recording publishes them (../shared/data/real/spot_compressed_images)."""
    pipe = pipeline(toy_path)
    result = pipe.process_image(_compressed(fmt, pixels, ext))
    assert result.status == "rejected" and repr(named) in result.reason
    assert pipe.stats.rejections == {"encoding": 1}


def test_a_model_may_declare_mono_input(model_dir: Path) -> None:
    from runtime_models import contract

    mono = dataclasses.replace(contract(), input_encodings=("mono",))
    path = save(toy_model(metadata=mono), model_dir / "toy_mono.onnx")
    pipe = pipeline(path)
    msg = Image(Header(Time(4, 0)), 120, 200, "mono8", 0, 200, np.full(24000, 90, np.uint8))
    assert pipe.process_image(msg).ok
    assert pipe.process_image(image_message(frames(1)[0], 4.04)).status == "rejected"


# -- issue 9: one admission path -----------------------------------------------------------------
def test_process_prepared_takes_only_what_prepare_made(toy_path: Path) -> None:
    pipe = pipeline(toy_path)
    made = pipe.prepare(image_message(frames(1)[0], 2.0))
    forged = PreparedFrame(2.0, 2_000_000_000, made.model_input, "", "", (120, 200), 0.0)
    with pytest.raises(TypeError, match="prepare"):
        pipe.process_prepared(forged)
    with pytest.raises(TypeError):
        pipe.process_prepared(SimpleNamespace(**dataclasses.asdict(made)))  # type: ignore[arg-type]
    assert pipe.process_prepared(made).ok


def test_a_stale_frame_is_not_decoded_on_the_car(toy_path: Path) -> None:
    """Staleness is decided before the decode (a car that is behind spends nothing on it)."""
    pipe = pipeline(toy_path)
    msg = compressed_message(frames(1)[0], 1.0)
    msg.data = np.frombuffer(b"\xff\xd8\xff" + b"\x00" * 64, np.uint8)  # would not decode
    result = pipe.process_image(msg, now=2.0)
    assert result.status == "stale" and pipe.stats.frames_stale == 1
    assert pipe.stats.rejections == {}


def test_a_frame_mid_grey_all_over_is_not_taken_for_a_truncated_one(toy_path: Path) -> None:
    grey = np.full((120, 200, 3), 128, np.uint8)
    assert pipeline(toy_path).process_image(compressed_message(grey, 1.0)).ok

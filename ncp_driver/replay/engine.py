"""Replay a recorded drive through the on-car pipeline.

Every camera frame goes through :class:`~ncp_driver.runtime.SteeringPipeline`, the class the ROS 2
node runs, with the car's semantics: the auto-mode flag switches the pipeline's mode at the
frame's record time (so engage and manual frames reset the state as on the car), elapsed times
come from the image stamps, and the same limits and watchdog apply. Frames are decoded and
preprocessed with the pipeline's own functions. The speed for the lateral-acceleration limit
follows the car's rule (:mod:`ncp_driver.runtime.speed`) over record times, and the human's
curvature is the training set's label (:mod:`ncp_driver.bags.labels`).

Two ways to run the model, with the same results within 1e-5 (a test holds them to it):

- ``batch_size == 1`` (default): the car's own :class:`~ncp_driver.runtime.SteeringModel`,
  frame by frame (on a 2-core CPU the two modes measured within noise of each other);
- ``batch_size > 1``: the conv head runs over a batch of frames, the cell steps per frame
  (:class:`~ncp_driver.replay.split.SplitModel`), for hardware where batching pays (a GPU).

Noise levels (``noise_levels``) run side by side on the same decoded frames, each in its own
pipeline, so one pass over the bag gives the metrics of every level.

Three stages overlap in three threads: a reader thread reads, deserialises, decodes and
preprocesses the frames (in order, up to one batch ahead); a head thread adds each lane's noise
and runs the conv head over each batch (one batch ahead); the calling thread steps the cells and
the pipelines. sqlite, file reads, OpenCV and onnxruntime release the GIL, so the stages share
the cores. Results do not depend on it: every frame is prepared by the same functions, noise is
drawn in frame order, and batches are handed over in record-time order.
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ncp_driver.bags import Recording, load_series
from ncp_driver.bags.labels import MAX_SKEW_S, RecordedSteering, human_curvature
from ncp_driver.bags.series import Series, kind_for
from ncp_driver.bags.topics import find_topic, find_topic_optional
from ncp_driver.replay.errors import ReplayError, ReplaySettingsError
from ncp_driver.replay.metrics import AgreementMetrics, agreement_by_mode
from ncp_driver.replay.noise import PAPER_NOISE_SEED, InputNoise
from ncp_driver.replay.split import SplitModel
from ncp_driver.runtime import FrameResult, PipelineConfig, SteeringModel, SteeringPipeline
from ncp_driver.runtime.pipeline import PreparedFrame
from ncp_driver.runtime.speed import SPEED_MSGTYPES, RecordedSpeed, speeds_at

__all__ = ["FrameLog", "ReplayError", "ReplayResult", "ReplaySettings", "replay"]

READ_AHEAD = 16  # frames the reader thread prepares ahead of the model, at least


@dataclass(frozen=True)
class ReplaySettings:
    """What to replay and how. Topics are found by type when not given."""

    model: Path
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    camera_topic: str | None = None
    auto_topic: str | None = None  # may be TOPIC:FIELD
    steering_topic: str | None = None  # the human's steering (AckermannDrive[Stamped])
    steering_wheel_ratio: float | None = None  # the recorded angle is a steering-wheel angle
    speed_topic: str | None = None  # drive.speed for max_lateral_accel (default: the steering)
    gps_topic: str | None = None
    msg_dirs: tuple[Path, ...] = ()
    noise_levels: tuple[float, ...] = ()  # extra runs with input noise, beside the clean one
    noise_seed: int = PAPER_NOISE_SEED
    batch_size: int = 1  # > 1: batch the conv head (SplitModel)
    max_skew_s: float = MAX_SKEW_S  # how far the human's steering may be from a frame
    assume_autonomous: bool = True  # the mode when the bag has no auto-mode flag
    allow_partial: bool = False  # replay what a damaged bag gives (the results say so)

    def __post_init__(self) -> None:
        _ = self.human_steering  # validates the steering ratio and the skew
        if self.batch_size < 1:
            raise ReplaySettingsError(f"batch_size {self.batch_size} must be >= 1")
        if any(not (math.isfinite(s) and s > 0) for s in self.noise_levels):
            raise ReplaySettingsError(
                f"noise levels {list(self.noise_levels)} must be finite and > 0"
            )
        if len(set(self.noise_levels)) != len(self.noise_levels):
            raise ReplaySettingsError(
                f"noise levels {list(self.noise_levels)} repeat a level: give each once"
            )

    @property
    def human_steering(self) -> RecordedSteering:
        """The human's curvature: the training set's definition, with the car's wheelbase."""
        return RecordedSteering(
            self.pipeline.wheelbase_m, self.steering_wheel_ratio, self.max_skew_s
        )


@dataclass
class FrameLog:
    """Per-frame outputs of one pipeline run (one noise level), as columns."""

    stamp: list[float] = field(
        default_factory=list
    )  # the image's stamp, s (as the pipeline saw it)
    # Exact integer ns (float seconds near 1.6e9 are ~0.2 us coarse): the image's stamp (None
    # without a usable header stamp) and the record time in the bag.
    stamp_ns: list[int | None] = field(default_factory=list)
    bag_ns: list[int] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    autonomous: list[bool] = field(default_factory=list)
    curvature: list[float] = field(default_factory=list)  # NaN when nothing was commanded
    raw_curvature: list[float] = field(default_factory=list)
    steering_angle: list[float] = field(default_factory=list)
    limits_active: list[str] = field(default_factory=list)
    reset_reason: list[str] = field(default_factory=list)
    elapsed_s: list[float] = field(default_factory=list)
    neurons: list[np.ndarray] = field(default_factory=list)  # frames the model ran on
    features: list[np.ndarray] = field(default_factory=list)
    model_rows: list[int] = field(default_factory=list)  # frame index of each neurons row
    first_reasons: dict[str, str] = field(default_factory=dict)  # status -> its first reason

    def add(self, result: FrameResult, bag_ns: int, stamp_ns: int | None) -> None:
        command = result.command
        self.stamp.append(result.stamp)
        self.stamp_ns.append(stamp_ns)
        self.bag_ns.append(bag_ns)
        self.status.append(result.status.value)
        self.autonomous.append(result.autonomous)
        self.curvature.append(command.curvature if command else math.nan)
        self.raw_curvature.append(command.raw_curvature if command else math.nan)
        self.steering_angle.append(command.steering_angle if command else math.nan)
        self.limits_active.append(";".join(command.limits_active) if command else "")
        self.reset_reason.append(result.reset_reason or "")
        self.elapsed_s.append(result.elapsed_s)
        if result.reason:
            self.first_reasons.setdefault(result.status.value, result.reason)
        if result.neurons is not None and result.features is not None:
            self.model_rows.append(len(self.stamp) - 1)
            self.neurons.append(result.neurons)
            self.features.append(result.features)

    def __len__(self) -> int:
        return len(self.stamp)

    def array(self, name: str) -> np.ndarray:
        return np.asarray(getattr(self, name), dtype=np.float64)

    @property
    def bag_time(self) -> np.ndarray:
        """Record times in the bag, s."""
        return np.asarray(self.bag_ns, dtype=np.float64) * 1e-9


@dataclass
class ReplayResult:
    """Everything a replay produced; :mod:`ncp_driver.replay.outputs` writes it down."""

    settings: ReplaySettings
    sources: list[str]
    topics: dict[str, str | None]  # role -> topic used
    clean: FrameLog
    noisy: dict[float, FrameLog]
    human_curvature: np.ndarray  # per frame, 1/m (NaN where unknown)
    latitude: np.ndarray
    longitude: np.ndarray
    speed: np.ndarray
    stats: dict[str, Any]  # the clean pipeline's figures
    skipped_messages: dict[str, int]
    seconds: float
    model_info: dict[str, str]
    input_integrity: dict[str, Any] = field(default_factory=dict)  # Recording.integrity()

    @property
    def frames(self) -> int:
        return len(self.clean)

    def metrics(self, log: FrameLog | None = None) -> dict[str, AgreementMetrics]:
        """Agreement of the model's curvature with the human's, per mode."""
        log = log or self.clean
        return agreement_by_mode(
            log.array("raw_curvature"), self.human_curvature, np.asarray(log.autonomous, bool)
        )


@dataclass
class _Lane:
    """One pipeline run over the frames: the clean one, or one noise level."""

    noise: InputNoise | None
    pipeline: SteeringPipeline
    split: SplitModel | None
    log: FrameLog = field(default_factory=FrameLog)


@dataclass
class _Series:
    auto: Series | None
    steering: Series | None
    gps: Series | None
    speed: Series | None


def _small_series(
    recording: Recording, topics: dict[str, str | None], settings: ReplaySettings
) -> _Series:
    wanted: dict[str, Any] = {}
    if topics["auto"]:
        wanted[topics["auto"]] = kind_for("auto", settings.auto_topic)
    if topics["steering"]:
        wanted[topics["steering"]] = kind_for("steering", settings.steering_topic)
    if topics["gps"]:
        wanted[topics["gps"]] = "gps"
    loaded = load_series(recording, wanted) if wanted else {}

    def get(role: str) -> Series | None:
        topic = topics[role]
        return loaded.get(topic) if topic else None

    speed = None
    if topics["speed"]:  # read with the car's definition (it may be the steering topic too)
        speed = load_series(recording, {topics["speed"]: "speed"})[topics["speed"]]
    return _Series(get("auto"), get("steering"), get("gps"), speed)


def _speed_topic(
    available: dict[str, Any], steering: str | None, settings: ReplaySettings, source: str
) -> str | None:
    """The speed topic: as given, else the human's steering topic when it is an AckermannDrive."""
    if settings.speed_topic:
        return find_topic_optional(available, "speed", settings.speed_topic, source)
    if steering and available[steering].msgtype in SPEED_MSGTYPES:
        return steering
    return None


def _speed_track(series: _Series, settings: ReplaySettings) -> RecordedSpeed:
    """The car's speed rule (the latest sample for ``speed_timeout_s``) over record times."""
    speed = series.speed
    if speed is None:
        return RecordedSpeed(np.empty(0), np.empty(0), settings.pipeline.speed_timeout_s)
    return RecordedSpeed(speed.stamp, speed["speed"], settings.pipeline.speed_timeout_s)


def _mode_at(auto: Series | None, bag_ns: np.ndarray, assume: bool) -> np.ndarray:
    """The flag in force at each frame's record time (the last sample at or before it)."""
    if auto is None or len(auto) == 0:
        return np.full(bag_ns.shape, assume)
    index = np.searchsorted(auto.stamp_ns, bag_ns, side="right") - 1
    flags = auto["autonomous"] > 0.5
    return np.where(index >= 0, flags[np.clip(index, 0, None)], False)


def _interp(
    series: Series | None, column: str, t: np.ndarray, max_gap_s: float = 2.0
) -> np.ndarray:
    """Linear interpolation within the series' span and across gaps up to ``max_gap_s``."""
    out = np.full(t.shape, np.nan)
    if series is None or len(series) < 2:
        return out
    ts, values = series.stamp, series[column]
    ok = np.isfinite(values)
    ts, values = ts[ok], values[ok]
    if ts.size < 2:
        return out
    right = np.clip(np.searchsorted(ts, t), 1, ts.size - 1)
    inside = (t >= ts[0]) & (t <= ts[-1]) & (ts[right] - ts[right - 1] <= max_gap_s)
    out[inside] = np.interp(t[inside], ts, values)
    return out


def _open_lanes(settings: ReplaySettings) -> list[_Lane]:
    config = replace(settings.pipeline, model_path=str(settings.model))
    lanes = []
    for level in (0.0, *settings.noise_levels):
        noise = InputNoise(level, settings.noise_seed) if level > 0 else None
        if settings.batch_size > 1:
            split = SplitModel(settings.model, config)
            pipeline = SteeringPipeline(config, model=split)
        else:
            split = None
            pipeline = SteeringPipeline(config, model=SteeringModel.load(settings.model, config))
        lanes.append(_Lane(noise, pipeline, split))
    return lanes


def _chunks(messages: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in messages:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def replay(
    paths: Sequence[Path | str],
    settings: ReplaySettings,
    progress: Callable[[Iterable[Any], int], Iterable[Any]] | None = None,
) -> ReplayResult:
    """Replay the camera stream of the bag(s) ``paths`` through the pipeline."""
    start = time.perf_counter()
    with Recording(paths, settings.msg_dirs, settings.allow_partial) as recording:
        source = recording.describe()
        available = recording.topics
        topics: dict[str, str | None] = {
            "camera": find_topic(available, "camera", settings.camera_topic, source),
            "auto": find_topic_optional(available, "auto", settings.auto_topic, source),
            "steering": find_topic_optional(available, "steering", settings.steering_topic, source),
            "gps": find_topic_optional(available, "gps", settings.gps_topic, source),
        }
        topics["speed"] = _speed_topic(available, topics["steering"], settings, source)
        if settings.pipeline.max_lateral_accel > 0 and topics["speed"] is None:
            raise ReplaySettingsError(  # as the node refuses it without a speed_topic
                f"max_lateral_accel = {settings.pipeline.max_lateral_accel} needs the vehicle "
                f"speed, and {source} has no AckermannDrive topic to read it from: pass --speed "
                "TOPIC or set max_lateral_accel to 0"
            )
        series = _small_series(recording, topics, settings)
        speed = _speed_track(series, settings)
        lanes = _open_lanes(settings)
        camera = topics["camera"]
        assert camera is not None
        pipe = lanes[0].pipeline
        # The pipeline's own admission step, run ahead in the reader thread (it is stateless).
        prepared = (
            _Frame(m.stamp_ns, pipe.prepare(m.message)) for m in recording.messages([camera])
        )
        # Three stages in three threads (onnxruntime and OpenCV release the GIL): read and
        # prepare frames; the conv head over each batch; the cells and pipelines, in order.
        with _read_ahead(prepared, max(settings.batch_size, READ_AHEAD)) as ahead:
            frames: Iterable[_Frame] = ahead
            if progress is not None:
                frames = progress(frames, recording.count([camera]))
            heads = (_head(lanes, chunk) for chunk in _chunks(frames, settings.batch_size))
            with _read_ahead(heads, 1) as batches:
                for batch in batches:
                    chunk_ns = np.array([f.bag_ns for f in batch.frames], dtype=np.int64)
                    modes = _mode_at(series.auto, chunk_ns, settings.assume_autonomous)
                    speeds = [speed.at(ns * 1e-9) for ns in chunk_ns.tolist()]
                    _step(lanes, batch, modes, speeds)
        skipped = dict(recording.skipped)
        integrity = recording.integrity()
    clean = lanes[0]
    if len(clean.log) == 0:
        raise ReplayError(f"{source}: topic {camera} has no camera frames to replay")
    if "ok" not in clean.log.status:
        counts = {s: clean.log.status.count(s) for s in sorted(set(clean.log.status))}
        why = "; ".join(
            f"{n} {status} (first: {clean.log.first_reasons.get(status, '?')})"
            for status, n in counts.items()
        )
        verdict = (
            "every output of the model was non-finite"
            if set(counts) == {"nonfinite"}
            else "no frame decoded"
            if set(counts) == {"rejected"}
            else "no frame could be used"
        )
        raise ReplayError(
            f"{source}: {verdict} on {camera}, so there is nothing to evaluate: {why}"
        )
    t = clean.log.bag_time
    stats = clean.pipeline.stats
    model = clean.pipeline.model
    return ReplayResult(
        settings=settings,
        sources=[str(p) for p in paths],
        topics=topics,
        clean=clean.log,
        noisy={lane.noise.std: lane.log for lane in lanes[1:] if lane.noise is not None},
        human_curvature=human_curvature(series.steering, t, settings.human_steering),
        latitude=_interp(series.gps, "latitude", t),
        longitude=_interp(series.gps, "longitude", t),
        speed=_speeds(series, t, settings),
        stats={
            "frames_in": stats.frames_in,
            "frames_processed": stats.frames_processed,
            "frames_dropped": stats.frames_dropped,
            "frames_rejected": stats.frames_rejected,
            "rejections": dict(stats.rejections),
            "frames_stale": stats.frames_stale,
            "nonfinite_outputs": stats.nonfinite_outputs,
            "resets": dict(stats.resets),
            "limit_counts": dict(stats.limit_counts),
        },
        skipped_messages=skipped,
        seconds=time.perf_counter() - start,
        model_info={
            "model": str(settings.model),
            "kind": model.contract.kind,
            "model_sha256": model.model_hash,
            "provider": model.provider,
            "mode": "batched head" if settings.batch_size > 1 else "frame by frame",
        },
        input_integrity=integrity,
    )


def _speeds(series: _Series, t: np.ndarray, settings: ReplaySettings) -> np.ndarray:
    """The speed the pipeline saw at each record time ``t`` (NaN where unknown)."""
    if series.speed is None:
        return np.full(t.shape, np.nan)
    return speeds_at(
        series.speed.stamp, series.speed["speed"], t, settings.pipeline.speed_timeout_s
    )


@dataclass
class _Frame:
    """One camera message, prepared ahead by the pipeline (in the reader thread)."""

    bag_ns: int  # record time
    prepared: PreparedFrame  # SteeringPipeline.prepare's result: what process_prepared takes

    @property
    def model_input(self) -> np.ndarray | None:
        return self.prepared.model_input


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()
_T = TypeVar("_T")


@contextmanager
def _read_ahead(items: Iterator[_T], depth: int) -> Iterator[Iterator[_T]]:
    """``items`` produced in a worker thread, in order, at most ``depth`` ahead of the consumer.

    An exception in the worker is raised in the consumer; leaving the block stops the worker
    and waits for it, so the bag is not closed under it.
    """
    handover: queue.Queue[Any] = queue.Queue(maxsize=max(depth, 1))
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                handover.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Failure(exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):  # the consumer already has _END or the error
                    close()

    def consume() -> Iterator[_T]:
        while True:
            item = handover.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item

    worker = threading.Thread(target=work, name="ncp-replay-reader", daemon=True)
    worker.start()
    try:
        yield consume()
    finally:
        stop.set()
        worker.join()


@dataclass
class _Batch:
    """A chunk of frames with each lane's model inputs and (batched mode) conv features."""

    frames: list[_Frame]
    valid: np.ndarray  # frames that decoded
    inputs: list[np.ndarray]  # per lane: [n, H, W, 3] (noise applied)
    features: list[np.ndarray | None]  # per lane: [n, F] from the batched head, or None


def _head(lanes: list[_Lane], frames: list[_Frame]) -> _Batch:
    """Each lane's inputs (noise drawn per frame, in order) and the conv head over the batch."""
    spec = lanes[0].pipeline.spec
    clean = np.zeros((len(frames), *spec.input_shape), np.float32)
    valid = np.zeros(len(frames), dtype=bool)
    for j, frame in enumerate(frames):
        if frame.model_input is not None:
            clean[j] = frame.model_input
            valid[j] = True
    batch = _Batch(frames, valid, [], [])
    for lane in lanes:
        inputs = clean
        if lane.noise is not None:
            inputs = clean.copy()
            for k in np.flatnonzero(valid):  # per frame, in order: as frame by frame does
                inputs[k] = lane.noise(clean[k])
        features = None
        if lane.split is not None and valid.any():
            if valid.all():
                features = lane.split.features(inputs)
            else:
                features = np.zeros((len(frames), lane.split.contract.feature_count), np.float32)
                features[valid] = lane.split.features(inputs[valid])
        batch.inputs.append(inputs)
        batch.features.append(features)
    return batch


def _step(lanes: list[_Lane], batch: _Batch, modes: np.ndarray, speeds: list[float | None]) -> None:
    """Every frame of ``batch`` through each lane's pipeline, in order."""
    for lane, inputs, features in zip(lanes, batch.inputs, batch.features, strict=True):
        pipe = lane.pipeline
        for j, frame in enumerate(batch.frames):
            if bool(modes[j]) != pipe.autonomous:
                pipe.set_autonomous(bool(modes[j]), frame.bag_ns * 1e-9)
            pipe.set_speed(speeds[j])
            model_input, fed = None, False
            if batch.valid[j]:
                if lane.split is not None and features is not None:
                    lane.split.feed(features[j])
                    fed = True
                elif lane.noise is not None:
                    model_input = inputs[j]
            result = pipe.process_prepared(frame.prepared, model_input=model_input, input_fed=fed)
            lane.log.add(result, frame.bag_ns, frame.prepared.stamp_ns)

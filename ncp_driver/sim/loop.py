"""One closed-loop drive: a road, a driver (a model through the car's pipeline, or the expert),
the actuator, the safety driver; the record of what happened.

Time runs in integer nanoseconds: simulation ticks every ``1 / sim_hz`` and camera frames every
``1 / camera_hz`` (frames between ticks are taken at their own time: the vehicle is advanced to
the frame's time, the frame is rendered from that pose, then the step is finished). At every
tick the driving curvature is chosen (the actuator's output while autonomous, the human's
otherwise) and held until the next tick; after the step the safety driver checks the new state.

Every frame goes through :meth:`SteeringPipeline.process_image` as a real ``sensor_msgs/Image``
built like the synthetic bags' frames; with input noise, the frame is admitted by
:meth:`SteeringPipeline.prepare`, noise is added to its model input by
:class:`ncp_driver.replay.noise.InputNoise` and the pipeline runs on it with
:meth:`SteeringPipeline.process_prepared` - exactly as ``ncp-replay`` does. The pipeline is
told the mode (engage resets its state) and the speed, as on the car.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ncp_driver.replay.noise import InputNoise
from ncp_driver.runtime import FrameResult, SteeringPipeline
from ncp_driver.sim.actuator import Actuator
from ncp_driver.sim.errors import SimError
from ncp_driver.sim.safety import SafetyDriver
from ncp_driver.sim.settings import SimSettings
from ncp_driver.synth.config import DriveConfig, samples_before
from ncp_driver.synth.driver import HumanDriver
from ncp_driver.synth.messages import Message, camera_message
from ncp_driver.synth.render import Renderer
from ncp_driver.synth.road import Road, make_road
from ncp_driver.synth.vehicle import MAX_CURVATURE, START_S, Vehicle, VehicleState

__all__ = [
    "BagCamera",
    "FrameRecord",
    "FrameSink",
    "RunRecord",
    "World",
    "drive_closed_loop",
    "make_world",
]

# Called with every camera frame a model's pipeline receives: its stamp (ns), the car's state
# at the frame and the rendered pixels (e.g. ncp_driver.sim.dagger.DaggerWriter).
FrameSink = Callable[[int, VehicleState, np.ndarray], None]

_ROAD_MARGIN_M = 350.0  # road beyond the end of the drive: what the camera sees, look-ahead


@dataclass(frozen=True)
class World:
    """A road and the drive settings it was made with (seeded by ``config.seed``)."""

    config: DriveConfig
    road: Road
    end_s: float  # the drive stops when the car's road arc length reaches this


def make_world(settings: SimSettings, road_seed: int) -> World:
    """The procedural road of ``road_seed`` (the synthetic drives' generator and seed streams)."""
    config = DriveConfig(
        seed=road_seed,
        duration_s=max(60.0, settings.road_m / 2.5),
        takeover_count=0,
        camera_hz=settings.camera_hz,
        sim_hz=settings.sim_hz,
        gps_hz=settings.gps_hz,
        mode_hz=settings.mode_hz,
        steering_hz=settings.steering_hz,
        height=settings.height,
        width=settings.width,
        render_scale=settings.render_scale,
    )
    road_rng = np.random.default_rng(np.random.SeedSequence(road_seed).spawn(5)[0])
    length = START_S + settings.road_m + _ROAD_MARGIN_M
    road = make_road(
        road_rng, length, config.lane_width_m, config.min_radius_m, config.max_radius_m
    )
    return World(config, road, START_S + settings.road_m)


@dataclass(frozen=True)
class BagCamera:
    """Which frames go into the run's bag, and how: every ``every``-th, JPEG or raw."""

    every: int = 1
    compressed: bool = True
    jpeg_quality: int = 90


@dataclass
class FrameRecord:
    """What the pipeline did with each camera frame (empty for the expert)."""

    stamp_ns: list[int] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    autonomous: list[bool] = field(default_factory=list)
    raw_curvature: list[float] = field(default_factory=list)
    curvature: list[float] = field(default_factory=list)  # nan: no command
    steering_angle: list[float] = field(default_factory=list)
    neurons: list[np.ndarray | None] = field(default_factory=list)
    features: list[np.ndarray | None] = field(default_factory=list)  # the conv head's
    elapsed_s: list[float] = field(default_factory=list)  # fed to the model (nan: not run)
    reset_reason: list[str] = field(default_factory=list)  # "" unless the state was reset
    compute_s: list[float] = field(default_factory=list)

    def add(self, stamp_ns: int, result: FrameResult) -> None:
        cmd = result.command
        self.stamp_ns.append(stamp_ns)
        self.status.append(result.status)
        self.autonomous.append(result.autonomous)
        self.raw_curvature.append(cmd.raw_curvature if cmd else math.nan)
        self.curvature.append(cmd.curvature if cmd else math.nan)
        self.steering_angle.append(cmd.steering_angle if cmd else math.nan)
        self.neurons.append(result.neurons)
        self.features.append(result.features)
        self.elapsed_s.append(result.elapsed_s)
        self.reset_reason.append(result.reset_reason or "")
        self.compute_s.append(result.total_s)


@dataclass
class RunRecord:
    """The closed-loop drive: vehicle state at every tick, the frames, the bag's camera."""

    world: World
    start_ns: int
    tick_ns: np.ndarray  # ns after the start
    x: np.ndarray
    y: np.ndarray
    heading: np.ndarray
    speed: np.ndarray
    curvature: np.ndarray  # driven from this tick to the next
    lateral_error: np.ndarray
    heading_error: np.ndarray
    road_s: np.ndarray
    auto: np.ndarray  # the flag at each tick
    engage_s: list[float]
    takeover_s: list[float]  # the safety driver's takeovers (the flag's count is the figure)
    frames: FrameRecord
    camera: list[Message]  # the bag's camera messages
    wall_s: float
    frame_count: int


class _Pilot:
    """The model through the car's pipeline: frames in, commands to the actuator."""

    def __init__(
        self, pipeline: SteeringPipeline, noise_std: float, noise_seed: int, typestore: Any
    ) -> None:
        self.pipeline = pipeline
        self.noise = InputNoise(noise_std, noise_seed) if noise_std > 0 else None
        self.typestore = typestore
        self._input = np.empty(pipeline.spec.input_shape, np.float32)

    def frame(self, msg: Any, stamp: float, auto: bool, speed: float) -> FrameResult:
        pipe = self.pipeline
        if auto != pipe.autonomous:
            pipe.set_autonomous(auto, stamp)
        pipe.set_speed(speed)
        if self.noise is None:
            return pipe.process_image(msg)
        # The replay's noise point: the pipeline's own admission step (prepare), then noise on
        # the model input it made; the pipeline admits the frame as it would any other.
        frame = pipe.prepare(msg, out=self._input)
        noisy = None if frame.model_input is None else self.noise(frame.model_input)
        return pipe.process_prepared(frame, model_input=noisy)


def drive_closed_loop(
    world: World,
    settings: SimSettings,
    pipeline: SteeringPipeline | None,
    noise_std: float,
    compute_s: float,
    typestore: Any,
    bag_camera: BagCamera | None = None,
    on_frame: FrameSink | None = None,
) -> RunRecord:
    """Drive ``world``'s road once: ``pipeline`` steers (None: the expert, the synthetic driver).

    ``on_frame`` (with a pipeline only) gets every frame the pipeline gets, before it does.
    """
    if on_frame is not None and pipeline is None:
        raise SimError("on_frame needs a model's pipeline: the expert does not look at frames")
    begin = time.perf_counter()
    cfg = world.config
    vehicle = Vehicle(cfg, world.road)
    seeds = np.random.SeedSequence(cfg.seed).spawn(5)
    tick = round(1e9 / settings.sim_hz)
    dt = tick * 1e-9
    human = HumanDriver(cfg, np.random.default_rng(seeds[1]), dt)
    actuator = Actuator(settings.actuator_delay_s + compute_s, settings.actuator_lag_s)
    rule = SafetyDriver(
        max_offset_m=settings.offset_limit(cfg.lane_width_m),
        max_heading_error_rad=settings.max_heading_error_rad,
        hold_s=settings.hold_s,
        reengage_offset_m=settings.reengage_offset_m,
    )
    pilot = (
        _Pilot(pipeline, noise_std, settings.noise_seed, typestore)
        if pipeline is not None
        else None
    )
    needs_frames = pilot is not None or bag_camera is not None
    renderer = (
        Renderer(
            config=cfg,
            road=world.road,
            crop=pipeline.spec if (pipeline is not None and settings.band_only) else None,
        )
        if needs_frames
        else None
    )
    start_ns = round(cfg.start_epoch_s * 1e9)
    frames = FrameRecord()
    camera: list[Future[Message]] = []
    encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ncp-sim-camera")
    rows: list[tuple[float, ...]] = []
    auto = False
    manual_since = 0.0
    engage_s: list[float] = []
    takeover_s: list[float] = []
    k = 0  # next camera frame
    n = 0
    limit_ticks = samples_before(4.0 * settings.road_m / (0.5 * cfg.min_speed_mps), settings.sim_hz)

    def frame_ns(i: int) -> int:
        return round(i * 1e9 / settings.camera_hz)

    def take_frame(i: int, t_ns: int, state: VehicleState) -> None:
        assert renderer is not None
        stamp_ns = start_ns + t_ns
        rgb = renderer.render_pose(state.pose, t_ns * 1e-9, i)
        if on_frame is not None:
            on_frame(stamp_ns, state, rgb)
        if pilot is not None:
            msg = camera_message(typestore, rgb, stamp_ns, i).msg
            result = pilot.frame(msg, stamp_ns * 1e-9, auto, state.speed)
            frames.add(stamp_ns, result)
            if result.command is not None:
                actuator.command(t_ns * 1e-9, result.command.curvature)
        if bag_camera is not None and i % bag_camera.every == 0:
            # Encoded in a worker thread (OpenCV releases the GIL), kept in frame order.
            camera.append(
                encoder.submit(
                    camera_message, typestore, rgb, stamp_ns, i, bag_camera.compressed,
                    jpeg_quality=bag_camera.jpeg_quality,
                )
            )  # fmt: skip

    try:
        while vehicle.state.pose.road_s < world.end_s:
            if n > limit_ticks:
                raise SimError(f"road {cfg.seed}: the drive did not reach its end (internal limit)")
            t_ns = n * tick
            state = vehicle.state
            t = t_ns * 1e-9
            if not auto and (
                (not engage_s and t >= settings.engage_at_s)
                or (engage_s and rule.hands_back(state, manual_since))
            ):
                auto = True
                engage_s.append(t)
                actuator.engage(state.curvature)
            if auto:
                curvature = actuator.step(t, dt) if pilot is not None else human.step(vehicle, 0.6)
            else:
                curvature = human.step(vehicle, 1.0)
            curvature = min(max(curvature, -MAX_CURVATURE), MAX_CURVATURE)  # what the car drives
            rows.append(
                (
                    t_ns, state.pose.x, state.pose.y, state.pose.heading, state.speed, curvature,
                    state.lateral_error, state.heading_error, state.pose.road_s, auto,
                )
            )  # fmt: skip
            # Advance to the next tick, stopping at any camera frame in [t, t + tick).
            now = t_ns
            # (The steps are split at frame times whether or not a frame is drawn: the same
            # physics with and without a camera, e.g. the expert with and without a bag.)
            while frame_ns(k) < t_ns + tick:
                at = frame_ns(k)
                if at > now:
                    vehicle.advance(curvature, (at - now) * 1e-9)
                    now = at
                if needs_frames:
                    take_frame(k, at, vehicle.state)
                k += 1
            vehicle.advance(curvature, (t_ns + tick - now) * 1e-9)
            n += 1
            if auto and rule.takes_over(vehicle.state):
                auto = False
                manual_since = n * tick * 1e-9
                takeover_s.append(manual_since)
                human.take_over(curvature)
        messages = [f.result() for f in camera]
    finally:
        encoder.shutdown(wait=True, cancel_futures=True)
    table = np.array(rows, dtype=np.float64)
    return RunRecord(
        world=world,
        start_ns=start_ns,
        tick_ns=table[:, 0].astype(np.int64),
        x=table[:, 1],
        y=table[:, 2],
        heading=table[:, 3],
        speed=table[:, 4],
        curvature=table[:, 5],
        lateral_error=table[:, 6],
        heading_error=table[:, 7],
        road_s=table[:, 8],
        auto=table[:, 9] > 0.5,
        engage_s=engage_s,
        takeover_s=takeover_s,
        frames=frames,
        camera=messages,
        wall_s=time.perf_counter() - begin,
        frame_count=k,
    )

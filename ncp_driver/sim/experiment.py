"""Every model at every noise level on every road, in parallel processes; the figures.

Each (model, noise level, road) is one closed-loop drive (:func:`~ncp_driver.sim.loop.drive_closed_loop`)
with a fresh :class:`~ncp_driver.runtime.SteeringPipeline`; drives run in up to ``jobs``
worker processes (one onnxruntime thread each). Results do not depend on ``jobs`` or on the
order the drives finish in: every drive is seeded by its road and noise level alone.
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ncp_driver.bags.typestore import make_typestore
from ncp_driver.errors import NcpDriverError
from ncp_driver.exitcodes import PROBLEM, exit_code
from ncp_driver.runtime import PipelineConfig, SteeringPipeline
from ncp_driver.sim.bag import as_drive, write_run_bag
from ncp_driver.sim.dagger import DaggerWriter
from ncp_driver.sim.errors import ModelRefusedError, SimError
from ncp_driver.sim.figures import run_figures
from ncp_driver.sim.loop import BagCamera, World, drive_closed_loop, make_world
from ncp_driver.sim.settings import SimSettings
from ncp_driver.synth.messages import camera_message
from ncp_driver.synth.render import Renderer
from ncp_driver.synth.vehicle import Vehicle

__all__ = ["EXPERT", "Driver", "RunTask", "model_names", "open_driver", "run_all"]

EXPERT = "expert"
_COMPUTE_STEP_S = 0.005  # a measured compute time is rounded up to this (reproducible runs)


def model_names(paths: Sequence[Path]) -> list[str]:
    """The models' row names: the file stems, made unique (``-2``, ...) and never ``expert``."""
    names: list[str] = []
    for path in paths:
        name = path.stem
        while name in names or name == EXPERT:
            name = f"{name}-{len(names) + 1}"
        names.append(name)
    return names


@dataclass(frozen=True)
class Driver:
    """Who drives: a model file (checked by the pipeline) or the expert (``path`` None)."""

    name: str
    path: Path | None
    sha256: str | None
    compute_s: float  # the pipeline's compute time added to the actuator delay
    pipeline: PipelineConfig | None

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": "expert" if self.path is None else "model",
            "path": None if self.path is None else str(self.path),
            "sha256": self.sha256,
            "compute_s": self.compute_s,
        }


def open_driver(name: str, path: Path, settings: SimSettings, pipeline: PipelineConfig) -> Driver:
    """Open ``path`` with the car's pipeline (a model it refuses is refused here, with its
    reason) and measure its compute time per frame unless ``settings.compute_s`` is given."""
    config = replace(pipeline, model_path=str(path))
    try:
        pipe = SteeringPipeline(config)
    except NcpDriverError as exc:
        message = f"model {path} is refused by the pipeline: {exc}"
        raise ModelRefusedError(message, exit_code(exc)) from exc
    except OSError as exc:
        raise ModelRefusedError(f"model {path} cannot be read: {exc}", PROBLEM) from exc
    compute = settings.compute_s
    if compute is None:
        compute = _measure_compute(pipe, settings)
    return Driver(name, path, pipe.model.model_hash, compute, config)


def _measure_compute(pipe: SteeringPipeline, settings: SimSettings) -> float:
    """Median time of the pipeline on 12 real frames of the first road (after 3 warm-ups),
    rounded up to 5 ms so that repeated runs on one machine agree."""
    world = make_world(settings, settings.road_seeds[0])
    renderer = Renderer(config=world.config, road=world.road, crop=pipe.spec)
    pose = Vehicle(world.config, world.road).state.pose
    store = make_typestore()
    times = []
    for i in range(15):
        stamp_ns = round(world.config.start_epoch_s * 1e9) + round(i * 1e9 / settings.camera_hz)
        msg = camera_message(store, renderer.render_pose(pose, 0.0, i), stamp_ns, i).msg
        result = pipe.process_image(msg)
        if i >= 3:
            times.append(result.total_s)
    median = statistics.median(times)
    return round(math.ceil(median / _COMPUTE_STEP_S) * _COMPUTE_STEP_S, 6)


@dataclass(frozen=True)
class RunTask:
    """One closed-loop drive to do."""

    driver: Driver
    noise_std: float | None  # None for the expert (it does not look at images)
    road_seed: int
    bag: Path | None
    bag_camera: BagCamera | None
    bag_storage: str = "mcap"  # or "sqlite3"
    dagger: Path | None = None  # write the visited frames here as a training drive (DAgger)


def _run(task: RunTask, settings: SimSettings) -> dict[str, Any]:
    # One BLAS thread: the renderer's small matrix products (3 x 8 by 8 x pixels) run 10-100x
    # slower on OpenBLAS's threads than on one; parallelism comes from processes instead.
    with threadpool_limits(1, user_api="blas"):
        return _drive(task, settings)


def _drive(task: RunTask, settings: SimSettings) -> dict[str, Any]:
    world = make_world(settings, task.road_seed)
    store = make_typestore()
    driver = task.driver
    pipeline = SteeringPipeline(driver.pipeline) if driver.pipeline is not None else None
    noise = task.noise_std or 0.0
    camera = task.bag_camera if task.bag is not None else None
    with _dagger_sink(task, world, pipeline, settings) as sink:
        record = drive_closed_loop(
            world, settings, pipeline, noise, driver.compute_s, store, camera, sink
        )
    figures = run_figures(record, settings.mode_hz, settings.odometry_hz)
    counts: dict[str, int] = {}
    if task.bag is not None:
        counts = write_run_bag(
            record, task.bag, settings.gps_hz, settings.mode_hz, settings.steering_hz,
            settings.odometry_hz, task.bag_storage,
        )  # fmt: skip
    drive = as_drive(record, settings.gps_hz, settings.mode_hz, settings.steering_hz)
    gps = drive.gps
    every = max(1, round(settings.gps_hz))  # one fix per second for the map
    at = np.searchsorted(gps.stamps_ns, drive.takeover_stamps_ns).clip(0, gps.stamps_ns.size - 1)
    track = {
        "latitude": [round(float(v), 7) for v in gps.latitude[::every]],
        "longitude": [round(float(v), 7) for v in gps.longitude[::every]],
        "takeover_latitude": [round(float(gps.latitude[i]), 7) for i in at],
        "takeover_longitude": [round(float(gps.longitude[i]), 7) for i in at],
    }
    simulated_s = float(record.tick_ns[-1]) * 1e-9
    timing = {
        "wall_s": round(record.wall_s, 3),
        "simulated_s": round(simulated_s, 3),
        "real_time_factor": round(simulated_s / record.wall_s, 2) if record.wall_s > 0 else None,
        "frames": record.frame_count,
        "pipeline_s_median": (
            round(statistics.median(record.frames.compute_s), 6)
            if record.frames.compute_s
            else None
        ),
    }
    return {
        "figures": figures,
        "bag_counts": counts,
        "track": track,
        "timing": timing,
    }


def _dagger_sink(
    task: RunTask, world: World, pipeline: SteeringPipeline | None, settings: SimSettings
) -> AbstractContextManager[DaggerWriter | None]:
    """The run's DAgger drive file (``task.dagger``), or nothing."""
    if task.dagger is None:
        return nullcontext()
    if pipeline is None:
        raise SimError("a DAgger drive needs a model's run: the expert sees no frames")
    run = {
        "model": task.driver.name,
        "sha256": task.driver.sha256,
        "noise_std": task.noise_std or 0.0,
        "noise_seed": settings.noise_seed,
        "road_seed": task.road_seed,
        "compute_s": task.driver.compute_s,
    }
    return DaggerWriter(task.dagger, world, pipeline.spec, run)


def run_all(
    tasks: list[RunTask],
    settings: SimSettings,
    jobs: int,
    done: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Every task's result, in task order; up to ``jobs`` processes (1: in this process)."""
    if jobs <= 1 or len(tasks) <= 1:
        out = []
        for task in tasks:
            out.append(_run(task, settings))
            if done is not None:
                done(1)
        return out
    workers = min(jobs, len(tasks), os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures: list[Future[dict[str, Any]]] = [
            pool.submit(_run, task, settings) for task in tasks
        ]
        if done is not None:
            for future in futures:
                future.add_done_callback(lambda _: done(1))
        return [f.result() for f in futures]

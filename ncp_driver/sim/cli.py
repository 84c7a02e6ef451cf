"""``ncp-sim``: exported models drive a simulated car in closed loop; takeovers counted."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ncp_driver.atomic import atomic_write_text
from ncp_driver.bags.output import atomic_dir, check_new
from ncp_driver.errors import MissingInputError
from ncp_driver.exitcodes import EPILOG, run_command
from ncp_driver.models import default_model_path
from ncp_driver.replay.cli import add_param_option, parse_params
from ncp_driver.replay.noise import PAPER_NOISE_SEED
from ncp_driver.schemas import Active
from ncp_driver.sim.dagger import dagger_file
from ncp_driver.sim.errors import SimSettingsError
from ncp_driver.sim.experiment import EXPERT, Driver, RunTask, model_names, open_driver, run_all
from ncp_driver.sim.loop import BagCamera
from ncp_driver.sim.outputs import (
    ACTIVE_JSON,
    ACTIVE_PNG,
    BAGS_DIR,
    TIMING_JSON,
    TRACKS_JSON,
    active_document,
    bag_file,
    road_entry,
    write_json,
    write_plot,
)
from ncp_driver.sim.settings import DEFAULT_ROAD_SEED, SimSettings

__all__ = [
    "add_camera_options",
    "add_road_options",
    "build_parser",
    "main",
    "parse_compute_delay",
    "parse_frame_size",
]

_RAW_BAG_LIMIT = 2e9  # bytes of raw frames one run may hold before its bag is written


def parse_frame_size(text: str) -> tuple[int, int]:
    """``--size HxW`` (an argparse type): the camera frame's height and width."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not HEIGHTxWIDTH, e.g. 1208x1920") from None
    return h, w


def add_road_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    noise_std: Sequence[float],
    road_m: float,
) -> None:
    """The closed loop's road set, noise levels, compute delay and processes: ncp-sim's
    options, also ncp-compare's (with its own defaults); :func:`_settings` reads them."""
    parser.add_argument(
        "--noise-std",
        type=float,
        nargs="+",
        default=list(noise_std),
        metavar="STD",
        help="input noise levels on the [0, 1] image, one closed-loop run each "
        f"(default {' '.join(f'{v:g}' for v in noise_std)}; the paper: 0 0.1 0.2 0.25 0.3)",
    )
    parser.add_argument("--noise-seed", type=int, default=PAPER_NOISE_SEED)
    parser.add_argument("--roads", type=int, default=3, help="number of roads (default 3)")
    parser.add_argument(
        "--road-m",
        type=float,
        default=road_m,
        help=f"length driven per road, m (default {road_m:g})",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_ROAD_SEED,
        help=f"the road set: roads SEED, SEED+1, ... (default {DEFAULT_ROAD_SEED})",
    )
    parser.add_argument(
        "--compute-delay",
        default="auto",
        metavar="S|auto",
        help="the pipeline's compute time added to the actuator delay (auto: measured per "
        "model at start, median rounded up to 5 ms)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="parallel closed-loop drives, one process each (default: the core count)",
    )


def add_camera_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """The simulated camera's frame size and render scale (ncp-sim's, also ncp-compare's)."""
    parser.add_argument(
        "--size",
        type=parse_frame_size,
        default=(1208, 1920),
        metavar="HxW",
        help="camera frame size (default 1208x1920, as the default model's training frames)",
    )
    parser.add_argument("--render-scale", type=float, default=0.4)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ncp-sim",
        description=(
            "The active test without a car: each model drives a simulated car on procedural "
            "roads through the car's own SteeringPipeline (camera frame rendered from the car's "
            "actual pose, actuator delay and lag, a virtual safety driver that takes over when "
            "the car leaves its lane). Writes active.json, active.png, tracks.json, timing.json "
            "and a ROS 2 bag per run into OUT."
        ),
        epilog=EPILOG,
    )
    p.add_argument(
        "--model",
        type=Path,
        action="append",
        default=[],
        help="exported .onnx (repeatable; default: the default model unless --expert alone)",
    )
    p.add_argument(
        "--expert",
        action="store_true",
        help="add the reference driver (the synthetic human) as a row",
    )
    add_road_options(p, noise_std=(0.0,), road_m=1000.0)
    p.add_argument("--out", type=Path, required=True, help="new output directory")
    p.add_argument("--force", action="store_true", help="replace an existing --out")
    act = p.add_argument_group("actuator")
    act.add_argument(
        "--actuator-delay",
        type=float,
        default=0.1,
        metavar="S",
        help="dead time from frame to wheels, besides the compute time (0.1 s)",
    )
    act.add_argument(
        "--actuator-lag",
        type=float,
        default=0.2,
        metavar="S",
        help="first-order lag of the steering (0.2 s)",
    )
    safety = p.add_argument_group("safety driver")
    safety.add_argument("--car-width", type=float, default=1.8, metavar="M")
    safety.add_argument(
        "--max-offset",
        type=float,
        default=None,
        metavar="M",
        help="take over beyond this |lateral offset| (default: (lane width - car width) / 2)",
    )
    safety.add_argument(
        "--max-heading-error",
        type=float,
        default=None,
        metavar="RAD",
        help="take over beyond this |heading error| (default pi/10)",
    )
    safety.add_argument(
        "--hold",
        type=float,
        default=3.0,
        metavar="S",
        help="manual time after a takeover before re-engaging (3 s)",
    )
    cam = p.add_argument_group("camera")
    add_camera_options(cam)
    cam.add_argument("--camera-hz", type=float, default=15.0)
    cam.add_argument(
        "--full-frames",
        action="store_true",
        help="render whole frames (default: "
        "only the pixels the model's crop needs; the same crop either way)",
    )
    bag = p.add_argument_group("bags")
    bag.add_argument("--no-bags", action="store_true", help="write no bag per run")
    bag.add_argument("--bag-storage", choices=("mcap", "sqlite3"), default="mcap")
    bag.add_argument("--bag-camera", choices=("jpeg", "raw", "none"), default="jpeg")
    bag.add_argument(
        "--bag-camera-every",
        type=int,
        default=5,
        metavar="N",
        help="every N-th frame the model saw into the bag (default 5: 3 Hz at 15 Hz)",
    )
    add_param_option(p)
    p.add_argument(
        "--dagger",
        type=Path,
        metavar="DIR",
        help="also write every model run's camera frames, cropped as the model crops them and "
        "labelled by the reference driver's law from the car's actual pose, as training drives "
        "into the new directory DIR (on-policy aggregation, DAgger; docs/sim.md)",
    )
    p.add_argument("--json", action="store_true", help="print active.json to stdout")
    prog = p.add_mutually_exclusive_group()
    prog.add_argument("--progress", dest="progress", action="store_true", default=None)
    prog.add_argument("--no-progress", dest="progress", action="store_false")
    return p  # fmt: skip


def parse_compute_delay(text: str) -> float | None:
    """``--compute-delay S|auto``: seconds, or None (measured at start)."""
    if text == "auto":
        return None
    try:
        return float(text)
    except ValueError:
        raise SimSettingsError(f"--compute-delay {text!r}: give seconds or auto") from None


def _settings(args: argparse.Namespace) -> SimSettings:
    compute = parse_compute_delay(args.compute_delay)
    extra: dict[str, Any] = {}
    if args.max_heading_error is not None:
        extra["max_heading_error_rad"] = args.max_heading_error
    return SimSettings(
        roads=args.roads,
        seed=args.seed,
        road_m=args.road_m,
        camera_hz=args.camera_hz,
        height=args.size[0],
        width=args.size[1],
        render_scale=args.render_scale,
        band_only=not args.full_frames,
        actuator_delay_s=args.actuator_delay,
        actuator_lag_s=args.actuator_lag,
        compute_s=compute,
        car_width_m=args.car_width,
        max_offset_m=args.max_offset,
        hold_s=args.hold,
        noise_levels=tuple(args.noise_std),
        noise_seed=args.noise_seed,
        **extra,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``ncp-sim``; the exit status follows :mod:`ncp_driver.exitcodes`."""
    args = build_parser().parse_args(argv)
    return run_command("ncp-sim", lambda: _run(args), json_output=args.json)


def _run(args: argparse.Namespace) -> None:
    settings = _settings(args)
    if args.bag_camera_every < 1:
        raise SimSettingsError(f"--bag-camera-every {args.bag_camera_every} must be >= 1")
    if args.jobs < 1:
        raise SimSettingsError(f"--jobs {args.jobs} must be >= 1")
    _check_bag_size(args, settings)
    check_new([args.out, *([args.dagger] if args.dagger else [])], args.force)
    pipeline = parse_params(args.param)
    paths = list(args.model) or ([] if args.expert else [default_model_path()])
    for path in paths:
        if not path.is_file():
            raise MissingInputError(f"--model {path}: no such file")
    # Every model is opened by the car's pipeline before anything runs: one it refuses stops
    # the command here, with the pipeline's reason.
    drivers = [
        open_driver(name, path, settings, pipeline)
        for name, path in zip(model_names(paths), paths, strict=True)
    ]
    if args.dagger is not None and not drivers:
        raise SimSettingsError("--dagger needs a --model: the expert's runs see no frames")
    if args.expert:
        drivers.append(Driver(EXPERT, None, None, 0.0, None))
    doc, timing = _simulate(args, settings, drivers)
    if args.json:
        sys.stdout.write(doc.dumps())
    else:
        print(_summary(doc, timing, args.out))


def _simulate(
    args: argparse.Namespace, settings: SimSettings, drivers: list[Driver]
) -> tuple[Active, dict[str, Any]]:
    camera = None
    if args.bag_camera != "none":
        camera = BagCamera(every=args.bag_camera_every, compressed=args.bag_camera == "jpeg")
    with atomic_dir(args.out, args.force) as tmp, _dagger_dir(args) as dagger:
        tasks = []
        for driver in drivers:
            levels = [None] if driver.path is None else list(settings.noise_levels)
            for level in levels:
                for seed in settings.road_seeds:
                    bag = (
                        None
                        if args.no_bags
                        else tmp / BAGS_DIR / bag_file(driver.name, level, seed, args.bag_storage)
                    )
                    visited = (
                        dagger / dagger_file(driver.name, level, seed)
                        if dagger is not None and level is not None
                        else None
                    )
                    tasks.append(
                        RunTask(driver, level, seed, bag, camera, args.bag_storage, visited)
                    )
        if not args.no_bags:
            (tmp / BAGS_DIR).mkdir()
        show = sys.stderr.isatty() if args.progress is None else args.progress
        bar = _bar(len(tasks), show)
        try:
            results = run_all(tasks, settings, args.jobs, bar.update)
        finally:
            bar.close()
        runs = []
        tracks = []
        timings = []
        for task, result in zip(tasks, results, strict=True):
            head = {"model": task.driver.name, "noise_std": task.noise_std}
            run = {**head, **result["figures"]}
            if task.bag is not None:
                run["bag"] = f"{BAGS_DIR}/{task.bag.name}"
            runs.append(run)
            tracks.append({**head, "road_seed": task.road_seed, **result["track"]})
            timings.append({**head, "road_seed": task.road_seed, **result["timing"]})
        roads = [road_entry(settings, seed) for seed in settings.road_seeds]
        doc = active_document(settings.to_dict(), [d.describe() for d in drivers], roads, runs)
        atomic_write_text(tmp / ACTIVE_JSON, doc.dumps())
        write_json(tmp / TRACKS_JSON, {"tracks": tracks})
        timing = {"runs": timings, "jobs": args.jobs}
        if dagger is not None:
            written = [r for t, r in zip(tasks, results, strict=True) if t.dagger is not None]
            frames = sum(r["timing"]["frames"] for r in written)  # a DAgger drive has them all
            timing["dagger"] = {"dir": str(args.dagger), "drives": len(written), "frames": frames}
        write_json(tmp / TIMING_JSON, timing)
        write_plot(doc, tmp / ACTIVE_PNG)
    return doc, timing


@contextlib.contextmanager
def _dagger_dir(args: argparse.Namespace) -> Iterator[Path | None]:
    """The DAgger drives' folder (atomic, as ``--out``), or None without ``--dagger``."""
    if args.dagger is None:
        yield None
        return
    with atomic_dir(args.dagger, args.force) as tmp:
        yield tmp


def _check_bag_size(args: argparse.Namespace, settings: SimSettings) -> None:
    """Refuse raw camera bags that would not fit in memory (frames are kept until written)."""
    if args.no_bags or args.bag_camera != "raw":
        return
    frames = settings.road_m / 5.0 * settings.camera_hz / args.bag_camera_every  # 5 m/s worst
    size = frames * settings.height * settings.width * 3
    if size > _RAW_BAG_LIMIT:
        raise SimSettingsError(
            f"--bag-camera raw with --bag-camera-every {args.bag_camera_every} would hold up to "
            f"{size / 1e9:.1f} GB of frames per run: use --bag-camera jpeg, a larger "
            "--bag-camera-every, a shorter --road-m or a smaller --size"
        )


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(total: int, show: bool) -> Any:
    if not show:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="drive", desc="ncp-sim", file=sys.stderr)


def _fmt(value: Any, spec: str = ".3g") -> str:
    return "n/a" if value is None else format(value, spec)


def _summary(doc: Active, timing: dict[str, Any], out: Path) -> str:
    lines = [
        f"{'model':<20} {'noise':>6} {'takeovers':>9} {'auto km':>8} {'per km':>8} "
        f"{'95 % interval':>16} {'mean |off| m':>12}"
    ]
    for e in doc.results:
        lo, hi = e.takeovers_per_km_95
        noise = "-" if e.noise_std is None else f"{e.noise_std:g}"
        lines.append(
            f"{e.model:<20} {noise:>6} {e.takeovers:>9} {e.autonomous_km:>8.2f} "
            f"{_fmt(e.takeovers_per_km):>8} {_fmt(lo) + '-' + _fmt(hi):>16} "
            f"{_fmt(e.lateral_offset_mean_m):>12}"
        )
    factors = [r["real_time_factor"] for r in timing["runs"] if r["real_time_factor"]]
    if factors:
        lines.append(
            f"speed: {min(factors):.1f}x to {max(factors):.1f}x real time per drive "
            f"({timing['jobs']} process(es))"
        )
    if "dagger" in timing:
        d = timing["dagger"]
        lines.append(f"wrote {d['drives']} DAgger drives ({d['frames']} frames) to {d['dir']}")
    lines.append(f"wrote {out}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

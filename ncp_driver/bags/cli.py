"""``ncp-bag``: inspect bags, extract data, build training sets, count takeovers, rate comfort.

Every command takes one or more bags (ROS 1 ``.bag``, ROS 2 folders, ``.db3``, ``.mcap``; several
are read as one recording in time order), finds its topics by message type unless given, reads
only the topics it needs, and prints a table (or a JSON document with ``--json``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ncp_driver.bags.labels import MAX_SKEW_S
from ncp_driver.bags.output import check_new, dump_json
from ncp_driver.bags.reader import Recording
from ncp_driver.comfort import JERK_LIMIT_MPS3, LATERAL_LIMIT_MPS2
from ncp_driver.exitcodes import EPILOG, PROBLEM, run_command
from ncp_driver.preprocessing import PAPER_PREPROCESSING, Preprocessing
from ncp_driver.takeover import DEFAULT_MIN_DURATION_S

__all__ = ["build_parser", "main"]

DISCOMFORT_HELP = f"""\
Lateral discomfort over autonomous driving (all driving if the bag has no auto-mode flag).

Every source present is used. GPS: fixes in local east/north metres, resampled to --rate Hz,
Savitzky-Golay (cubic over --window s) velocity v and acceleration a; speed |v|;
a_lat = (v x a)/|v| (= speed x yaw rate). Odometry: a_lat = twist.linear.x * twist.angular.z.
IMU: a_lat = speed * (gyro rate about the vertical = mean accelerometer direction while not
turning), speed from odometry, else GPS. Jerk = d a_lat/dt (same filter). Samples below --min-speed are left out.
Reports RMS, p95, max of |a_lat| and |jerk| and the share of time above the nuPlan comfort
limits |a_lat| > {LATERAL_LIMIT_MPS2} m/s^2, |jerk| > {JERK_LIMIT_MPS3} m/s^3.
"""


def _progress_factory(enabled: bool) -> Callable[[Iterable[Any], int, str], Iterable[Any]]:
    def progress(items: Iterable[Any], total: int, desc: str = "") -> Iterable[Any]:
        if not enabled:
            return items
        from tqdm import tqdm

        return tqdm(items, total=total, desc=desc or None, unit="msg", leave=False, disable=None)

    return progress


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bags", nargs="+", type=Path, help="bag files or folders (one recording)")
    parser.add_argument(
        "--msg-dir",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="folder of <pkg>/msg/*.msg for types the bag does not define (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON document instead")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        help="use what a damaged or cut-short bag gives (fewer messages than it declares) "
        "instead of failing; the results say they come from partial input",
    )


def _open(args: argparse.Namespace) -> Recording:
    """The recording of the command's bags (not yet open)."""
    return Recording(args.bags, args.msg_dir, allow_partial=args.allow_partial)


def _topic_flags(parser: argparse.ArgumentParser, roles: Sequence[str]) -> None:
    helps = {
        "camera": ("--camera", "camera topic (Image or CompressedImage)"),
        "gps": ("--gps", "GPS topic (NavSatFix)"),
        "auto": (
            "--auto",
            "auto-mode flag topic (std_msgs/Bool, True = autonomous), or TOPIC:FIELD of any type",
        ),
        "steering": (
            "--steering",
            "steering topic (AckermannDrive(Stamped)), or TOPIC:FIELD (angle in rad) of any type",
        ),
        "odometry": ("--odom", "odometry topic (nav_msgs/Odometry)"),
        "imu": ("--imu", "IMU topic (sensor_msgs/Imu)"),
    }
    for role in roles:
        flag, text = helps[role]
        parser.add_argument(
            flag, dest=f"topic_{role}", metavar="TOPIC", help=text + "; default: found by type"
        )


def _motion_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rate", type=float, default=10.0, help="analysis grid rate, Hz (10)")
    parser.add_argument("--window", type=float, default=2.0, help="smoothing window, s (2.0)")
    parser.add_argument(
        "--min-speed",
        type=float,
        default=1.0,
        help="speed below which heading is ignored, m/s (1.0)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ncp-bag",
        description="Inspect bags, extract data, build training sets, count takeovers, rate "
        "comfort. Every command takes one or more bags (ROS 1 .bag, ROS 2 folders, .db3, .mcap; "
        "several are read as one recording in time order), finds its topics by message type "
        "unless given, reads only the topics it needs, and prints a table (or JSON with --json).",
        epilog="See docs/bags.md for examples. " + EPILOG,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    info = sub.add_parser("info", help="format, duration, topics with types, counts and rates")
    _common(info)
    info.add_argument(
        "--exact",
        action="store_true",
        help="read every record time for per-topic first/last stamps and rates (slower)",
    )

    ext = sub.add_parser(
        "extract",
        help="frames to PNG/JPEG/NPZ/HDF5; GPS, auto mode, steering, odometry, IMU to CSV",
        description="Extract into one output folder, written atomically. Without --only, every "
        "kind the bag has is extracted (the paper's export: images, GPS, auto-mode switch).",
    )
    _common(ext)
    ext.add_argument("-o", "--out", type=Path, required=True, help="output folder")
    ext.add_argument(
        "--only",
        action="append",
        choices=["frames", "gps", "auto", "steering", "odometry", "imu"],
        default=[],
        help="extract only this kind (repeatable); it must then be in the bag",
    )
    ext.add_argument(
        "--camera", action="append", default=[], metavar="TOPIC", help="camera topic (repeatable)"
    )
    _topic_flags(ext, ["gps", "auto", "steering", "odometry", "imu"])
    ext.add_argument(
        "--format",
        dest="frames_format",
        choices=["png", "jpg", "npz", "h5"],
        default="png",
        help="frames as PNG or JPEG files, or one NPZ or HDF5 with stamps (png)",
    )
    crop = ext.add_mutually_exclusive_group()
    crop.add_argument(
        "--crop", action="store_true", help="crop and resize with the paper's preprocessing"
    )
    crop.add_argument(
        "--model", type=Path, metavar="ONNX", help="crop and resize with this model's preprocessing"
    )
    ext.add_argument(
        "--reduce",
        type=int,
        choices=[1, 2, 4, 8],
        default=1,
        help="decode JPEG at 1/N size (full frames; with --crop/--model the largest exact "
        "reduction is chosen automatically)",
    )
    ext.add_argument("--jpeg-quality", type=int, default=95, help="quality of written JPEGs (95)")
    ext.add_argument("--force", action="store_true", help="replace an existing output folder")

    ts = sub.add_parser(
        "trainset",
        help="a drive file (HDF5: camera_front, timestamp, inverse_r) for training",
        description="Label every frame with the curvature driven (1/m, positive left) from "
        "--label: steering (tan(angle)/wheelbase), odometry (yaw rate/speed) or imu (vertical "
        "gyro rate/speed from odometry or GPS). A frame is kept if a label sample lies within "
        "--max-skew s and the speed is at least --min-speed. Frames are cropped and resized "
        "with the paper's (or --model's) preprocessing unless --full-frames.",
    )
    _common(ts)
    ts.add_argument("-o", "--out", type=Path, required=True, help="output .h5 file")
    ts.add_argument("--label", choices=["steering", "odometry", "imu"], default="steering")
    ts.add_argument("--wheelbase", type=float, help="wheelbase in metres (steering label)")
    ts.add_argument(
        "--steering-wheel-ratio",
        type=float,
        metavar="RATIO",
        help="the recorded steering angle is a steering-wheel angle: divide it by RATIO "
        "(default: it is the front-wheel angle, as AckermannDrive defines it)",
    )
    ts.add_argument(
        "--min-speed", type=float, default=1.0, help="leave out frames slower, m/s (1.0)"
    )
    ts.add_argument(
        "--max-skew",
        type=float,
        default=MAX_SKEW_S,
        help=f"largest frame-to-label time offset, s ({MAX_SKEW_S:g})",
    )
    ts.add_argument("--full-frames", action="store_true", help="store full frames, uncropped")
    ts.add_argument("--model", type=Path, metavar="ONNX", help="use this model's preprocessing")
    _topic_flags(ts, ["camera", "steering", "odometry", "imu", "gps"])
    ts.add_argument("--force", action="store_true", help="replace an existing output file")

    tk = sub.add_parser(
        "takeovers",
        help="the paper's crash count: takeovers, autonomous time and distance, rates, map",
        description="A takeover is an autonomous-to-manual transition of the auto-mode flag, "
        "debounced: a change counts once the new value held --min-duration s.",
    )
    _common(tk)
    _topic_flags(tk, ["auto", "gps", "odometry"])
    tk.add_argument(
        "--min-duration",
        type=float,
        default=DEFAULT_MIN_DURATION_S,
        help=f"debounce: shortest mode change that counts, s ({DEFAULT_MIN_DURATION_S})",
    )
    tk.add_argument("--map", type=Path, metavar="PNG", help="write the GPS track map here")
    tk.add_argument("--force", action="store_true", help="replace an existing map")

    dc = sub.add_parser(
        "discomfort",
        help="lateral acceleration and jerk over autonomous driving vs nuPlan limits",
        description=DISCOMFORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(dc)
    _topic_flags(dc, ["auto", "gps", "odometry", "imu"])
    _motion_flags(dc)
    dc.add_argument(
        "--min-duration", type=float, default=DEFAULT_MIN_DURATION_S, help="auto-flag debounce, s"
    )
    dc.add_argument("--all-driving", action="store_true", help="ignore the auto-mode flag")
    dc.add_argument("--plot", type=Path, metavar="PNG", help="write the plot here")
    dc.add_argument("--force", action="store_true", help="replace an existing plot")
    return parser


def _given(args: argparse.Namespace) -> dict[str, str | None]:
    return {
        role: getattr(args, f"topic_{role}", None)
        for role in ("camera", "gps", "auto", "steering", "odometry", "imu")
    }


def _model_preprocessing(path: Path) -> Preprocessing:
    """The preprocessing of an exported model, validated exactly as the pipeline validates it
    (contract, graph, a finite first step): a model the car would refuse is refused here."""
    from ncp_driver.runtime.config import PipelineConfig
    from ncp_driver.runtime.model import SteeringModel

    model = SteeringModel.load(path, PipelineConfig(model_path=str(path), warmup_runs=0))
    return model.contract.preprocessing


def _emit(args: argparse.Namespace, document: dict[str, Any], table: str, rec: Recording) -> None:
    """Print the result; ``input`` says whether the bag gave all it declares."""
    document["input"] = rec.integrity()
    notes = rec.integrity_summary()
    if notes:
        print(notes, file=sys.stderr)
    if args.json:
        dump_json(document, sys.stdout)
    else:
        print(table + (f"\n{notes}" if notes else ""))


# -- commands ----------------------------------------------------------------------------------
def _info(args: argparse.Namespace) -> None:
    from ncp_driver.bags.info import info_document, info_table

    progress = _progress_factory(not args.no_progress)
    with _open(args) as rec:
        doc = info_document(rec, args.exact, lambda it, n: progress(it, n, "scanning"))
    _emit(args, doc, info_table(doc), rec)


def _extract(args: argparse.Namespace) -> None:
    from ncp_driver.bags.extract import extract, plan_extract

    check_new([args.out], args.force)
    preprocessing = None
    if args.model:
        preprocessing = _model_preprocessing(args.model)
    elif args.crop:
        preprocessing = PAPER_PREPROCESSING
    progress = _progress_factory(not args.no_progress)
    with _open(args) as rec:
        plan = plan_extract(rec, args.only, args.camera, _given(args))
        summary = extract(
            rec,
            plan,
            args.out,
            frames_format=args.frames_format,
            preprocessing=preprocessing,
            reduce=args.reduce,
            jpeg_quality=args.jpeg_quality,
            force=args.force,
            progress=lambda it, n: progress(it, n, "extract"),
        )
    _emit(args, summary.to_json(), summary.table(), rec)


def _trainset(args: argparse.Namespace) -> None:
    from ncp_driver.bags.trainset import TrainsetSettings, build_trainset

    check_new([args.out], args.force)
    preprocessing: Preprocessing | None = PAPER_PREPROCESSING
    if args.full_frames:
        preprocessing = None
    elif args.model:
        preprocessing = _model_preprocessing(args.model)
    settings = TrainsetSettings(
        source=args.label,
        wheelbase_m=args.wheelbase,
        steering_wheel_ratio=args.steering_wheel_ratio,
        min_speed=args.min_speed,
        max_skew_s=args.max_skew,
        preprocessing=preprocessing,
    )
    with _open(args) as rec:
        summary = build_trainset(
            rec,
            args.out,
            settings,
            given=_given(args),
            force=args.force,
            progress=_progress_factory(not args.no_progress),
        )
    _emit(args, summary.to_json(), summary.table(), rec)


def _takeovers(args: argparse.Namespace) -> None:
    from ncp_driver.bags.takeovers import recording_takeovers

    progress = _progress_factory(not args.no_progress)
    with _open(args) as rec:
        report = recording_takeovers(
            rec,
            _given(args),
            args.min_duration,
            map_path=args.map,
            force=args.force,
            progress=lambda it, n: progress(it, n, "reading"),
        )
    _emit(args, report.to_json(), report.table(), rec)


def _discomfort(args: argparse.Namespace) -> None:
    from ncp_driver.bags.discomfort import recording_discomfort
    from ncp_driver.bags.motion import MotionSettings

    settings = MotionSettings(rate_hz=args.rate, window_s=args.window, min_speed=args.min_speed)
    progress = _progress_factory(not args.no_progress)
    with _open(args) as rec:
        report = recording_discomfort(
            rec,
            settings,
            _given(args),
            args.min_duration,
            all_driving=args.all_driving,
            plot_path=args.plot,
            force=args.force,
            progress=lambda it, n: progress(it, n, "reading"),
        )
    _emit(args, report.to_json(), report.table(), rec)


COMMANDS: dict[str, Callable[[argparse.Namespace], None]] = {
    "info": _info,
    "extract": _extract,
    "trainset": _trainset,
    "takeovers": _takeovers,
    "discomfort": _discomfort,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``ncp-bag``; the exit status follows :mod:`ncp_driver.exitcodes`."""
    args = build_parser().parse_args(argv)
    try:
        return run_command(
            f"ncp-bag {args.command}",
            lambda: COMMANDS[args.command](args),
            json_output=args.json,
            interrupted="no output was written",
        )
    except BrokenPipeError:  # output piped into a reader that stopped early (| head)
        sys.stderr.close()
        return PROBLEM


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

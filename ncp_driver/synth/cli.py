"""``ncp-synth``: write a synthetic drive as a ROS 2 bag, a ROS 1 bag or an HDF5 training file."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ncp_driver.drives import FRAMES
from ncp_driver.exitcodes import EPILOG, run_command
from ncp_driver.preprocessing import PAPER_PREPROCESSING
from ncp_driver.synth.config import DriveConfig
from ncp_driver.synth.errors import SynthError
from ncp_driver.synth.messages import ENCODINGS
from ncp_driver.synth.recovery import recovery_path, recovery_views, write_recovery_h5
from ncp_driver.synth.simulate import simulate_drive
from ncp_driver.synth.writers import write_ros1_bag, write_ros2_bag, write_training_h5

__all__ = ["main"]

FORMATS = ("ros2-sqlite3", "ros2-mcap", "ros2-mcap-folder", "ros1", "h5")
_DEFAULTS = DriveConfig()


def parse_size(text: str) -> tuple[int, int]:
    """``HEIGHTxWIDTH`` (e.g. 1208x1920) for argparse."""
    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"size {text!r} must be HEIGHTxWIDTH, e.g. 1208x1920"
        ) from None
    return height, width


def _times(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} must be comma-separated seconds, e.g. 12.5,30"
        ) from None


def _numbers(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} must be comma-separated numbers, e.g. 0.4,0.8"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ncp-synth",
        epilog=EPILOG,
        description="Generate a synthetic drive (camera frames of a road, steering, GPS, "
        "auto-mode flag with takeovers at known times). Seeded: the same arguments give the "
        "same drive.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output: a bag folder (ros2-sqlite3; ros2-mcap-folder: a rosbag2 folder with MCAP "
        "storage), a .mcap file (ros2-mcap), a .bag (ros1) or an .h5 file (h5)",
    )
    parser.add_argument("--format", choices=FORMATS, required=True, help="output format")
    parser.add_argument(
        "--duration",
        type=float,
        default=_DEFAULTS.duration_s,
        help=f"seconds (default {_DEFAULTS.duration_s:g})",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--size",
        type=parse_size,
        default=(_DEFAULTS.height, _DEFAULTS.width),
        help=f"frame HEIGHTxWIDTH (default {_DEFAULTS.height}x{_DEFAULTS.width})",
    )
    parser.add_argument(
        "--camera-hz",
        type=float,
        default=_DEFAULTS.camera_hz,
        help=f"frame rate (default {_DEFAULTS.camera_hz:g})",
    )
    parser.add_argument(
        "--takeovers",
        type=int,
        default=None,
        help=f"number of seeded takeovers (default {_DEFAULTS.takeover_count}, fewer on drives "
        "too short for them: about one per 10 s)",
    )
    parser.add_argument(
        "--takeover-times",
        type=_times,
        default=None,
        help="explicit takeover times in seconds after the start, comma-separated "
        "(overrides --takeovers)",
    )
    parser.add_argument(
        "--compressed", action="store_true", help="bags: JPEG CompressedImage instead of Image"
    )
    parser.add_argument("--encoding", choices=ENCODINGS, default="rgb8", help="raw image encoding")
    parser.add_argument("--jpeg-quality", type=int, default=90, help="with --compressed")
    parser.add_argument(
        "--preprocessed",
        action="store_true",
        help="h5: store the model's 200x78 crops instead of full frames",
    )
    parser.add_argument(
        "--render-scale",
        type=float,
        default=_DEFAULTS.render_scale,
        help="draw the scene at this fraction of the frame size, then upscale "
        f"(default {_DEFAULTS.render_scale})",
    )
    parser.add_argument(
        "--recovery-offsets",
        type=_numbers,
        default=(),
        metavar="M,M,...",
        help="h5: also write recovery drives beside --out, the same drive seen from poses "
        "shifted this many metres across the road (each value to both sides), labelled with "
        "the curvature back to the lane centre (docs/synth.md)",
    )
    parser.add_argument(
        "--recovery-yaw",
        type=_numbers,
        default=(),
        metavar="DEG,DEG,...",
        help="h5: recovery drives also from poses turned this many degrees (each value both "
        "ways); every combination with --recovery-offsets (and none of either) is written",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing output")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def generate(args: argparse.Namespace) -> dict[str, Any]:
    """Simulate and write the drive the arguments ask for; returns the summary."""
    if args.out.exists() and not args.force:
        raise SynthError(f"{args.out} exists already: choose another --out or pass --force")
    height, width = args.size
    config = DriveConfig(
        seed=args.seed,
        duration_s=args.duration,
        height=height,
        width=width,
        camera_hz=args.camera_hz,
        takeover_count=args.takeovers if args.takeovers is not None else 0,
        takeover_times_s=args.takeover_times,
        render_scale=args.render_scale,
    )
    if args.takeovers is None and args.takeover_times is None:
        config = dataclasses.replace(config, takeover_count=config.fitting_takeover_count())
    if args.format != "h5" and args.preprocessed:
        raise SynthError("--preprocessed applies to --format h5 only")
    if args.format == "h5" and args.compressed:
        raise SynthError("--compressed applies to bags only; h5 stores raw pixels")
    views = recovery_views(args.recovery_offsets, args.recovery_yaw)
    if views and args.format != "h5":
        raise SynthError("--recovery-offsets / --recovery-yaw apply to --format h5 only")
    for view in views:
        if recovery_path(args.out, view).exists() and not args.force:
            raise SynthError(
                f"{recovery_path(args.out, view)} exists already: choose another --out or "
                "pass --force"
            )
    started = time.perf_counter()
    drive = simulate_drive(config)
    progress = not args.no_progress and sys.stderr.isatty()
    if args.format == "h5":
        written = write_training_h5(
            drive, args.out, preprocessed=args.preprocessed, force=args.force, progress=progress
        )
    elif args.format == "ros1":
        written = write_ros1_bag(
            drive, args.out, compressed=args.compressed, encoding=args.encoding,
            jpeg_quality=args.jpeg_quality, force=args.force, progress=progress,
        )  # fmt: skip
    else:
        written = write_ros2_bag(
            drive, args.out, storage=args.format.removeprefix("ros2-"),
            compressed=args.compressed, encoding=args.encoding,
            jpeg_quality=args.jpeg_quality, force=args.force, progress=progress,
        )  # fmt: skip
    recovery = []
    for view in views:
        done = write_recovery_h5(
            drive, recovery_path(args.out, view), view, preprocessed=args.preprocessed,
            force=args.force, progress=progress,
        )  # fmt: skip
        recovery.append(
            {
                "out": str(done.path),
                "offset_m": view.offset_m,
                "yaw_deg": round(math.degrees(view.yaw_rad), 6),
                "frames": done.counts[FRAMES],
            }
        )
    elapsed = time.perf_counter() - started
    frames = drive.frame_count * (1 + len(views))
    summary = drive.summary()
    if args.preprocessed:  # the file holds the model's crops, not the camera's frames
        summary["frame_size"] = list(PAPER_PREPROCESSING.input_shape[:2])
        summary["camera_frame_size"] = [height, width]
    summary.update(
        out=str(written.path),
        format=args.format,
        counts=written.counts,
        seconds=round(elapsed, 2),
        frames_per_s=round(frames / elapsed, 1) if elapsed > 0 else None,
        recovery=recovery,
    )
    return summary


def _print(summary: dict[str, Any]) -> None:
    print(
        f"wrote {summary['out']} ({summary['format']}): {summary['frames']} frames "
        f"{summary['frame_size'][0]}x{summary['frame_size'][1]}"
        + (
            " (the model's crops of {}x{} camera frames)".format(*summary["camera_frame_size"])
            if "camera_frame_size" in summary
            else ""
        )
        + f" at {summary['camera_hz']} Hz, "
        f"{summary['duration_s']} s, {summary['distance_m']} m, seed {summary['seed']}"
    )
    for topic, count in summary["counts"].items():
        print(f"  {topic}: {count}")
    print(f"takeovers: {summary['takeovers']}")
    for rel, stamp in zip(summary["takeover_times_s"], summary["takeover_stamps_ns"], strict=True):
        print(f"  at {rel:.3f} s (stamp {stamp // 10**9}.{stamp % 10**9:09d})")
    for view in summary["recovery"]:
        print(
            f"recovery view {view['offset_m']:+g} m, {view['yaw_deg']:+g} deg: {view['out']} "
            f"({view['frames']} frames)"
        )
    print(f"took {summary['seconds']} s ({summary['frames_per_s']} frames/s)")


def main(argv: Sequence[str] | None = None) -> int:
    """``ncp-synth``; the exit status follows :mod:`ncp_driver.exitcodes`."""
    args = build_parser().parse_args(argv)

    def work() -> None:
        summary = generate(args)
        if args.json:
            json.dump(summary, sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            _print(summary)

    return run_command("ncp-synth", work, json_output=args.json)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""``ncp-replay``: a recorded drive through the on-car pipeline, against what the human did."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ncp_driver.errors import UsageError
from ncp_driver.exitcodes import EPILOG, run_command
from ncp_driver.models import default_model_path
from ncp_driver.replay.engine import ReplaySettings, replay
from ncp_driver.replay.errors import ModelGraphError, ReplaySettingsError
from ncp_driver.replay.noise import PAPER_NOISE_SEED
from ncp_driver.replay.outputs import TABLE_FORMATS, metrics_document, write_replay
from ncp_driver.replay.saliency import saliency_overlay
from ncp_driver.runtime import PipelineConfig

__all__ = ["build_parser", "main", "parse_params"]


def parse_params(items: Sequence[str]) -> PipelineConfig:
    """``NAME=VALUE`` pipeline settings (the ROS 2 node's parameters) into a config."""
    types = {f.name: f.type for f in dataclasses.fields(PipelineConfig)}
    values: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or name not in types:
            raise ReplaySettingsError(
                f"--param {item!r}: give NAME=VALUE with NAME one of {sorted(types)}"
            )
        kind = str(types[name])
        try:
            if "tuple" in kind:
                values[name] = tuple(p.strip() for p in text.split(",") if p.strip())
            elif kind == "bool":
                if text.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(text)
                values[name] = text.lower() in ("true", "1")
            elif kind == "int":
                values[name] = int(text)
            elif kind == "float":
                values[name] = float(text)
            else:
                values[name] = text
        except ValueError:
            raise ReplaySettingsError(f"--param {name}: {text!r} is not a valid {kind}") from None
    return PipelineConfig.from_mapping(values)


def add_param_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--param NAME=VALUE`` (repeatable): a pipeline setting; :func:`parse_params` reads it."""
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a pipeline setting, as the node's parameter of that name (repeatable), e.g. "
        "wheelbase_m=2.9 manual_mode=shadow max_curvature=0.1",
    )


def add_replay_options(parser: argparse.ArgumentParser) -> None:
    """The options that say how a recording is replayed: ncp-replay's, also ncp-eval's."""
    parser.add_argument(
        "--noise-std",
        type=float,
        nargs="+",
        default=[],
        metavar="STD",
        help="also replay with Gaussian noise of these standard deviations on the [0, 1] image "
        "(the paper: 0.1 0.2 0.25 0.3); metrics per level",
    )
    parser.add_argument("--noise-seed", type=int, default=PAPER_NOISE_SEED)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=1,
        help="frames per batch of the conv head (default 1: the car's own model, frame by "
        "frame; e.g. 64 where batching pays, such as a GPU; the results are the same)",
    )
    add_param_option(parser)
    topics = parser.add_argument_group("topics (found by message type when not given)")
    topics.add_argument("--camera", help="Image or CompressedImage topic")
    topics.add_argument("--auto", help="auto-mode Bool topic (or TOPIC:FIELD)")
    topics.add_argument(
        "--steering", help="the human's AckermannDrive[Stamped] topic (or TOPIC:FIELD)"
    )
    topics.add_argument(
        "--steering-wheel-ratio",
        type=float,
        metavar="RATIO",
        help="the recorded steering angle is a steering-wheel angle: divide it by RATIO "
        "(default: it is the front-wheel angle, as AckermannDrive defines it); the same option "
        "as ncp-bag trainset's",
    )
    topics.add_argument(
        "--speed",
        help="AckermannDrive[Stamped] topic whose drive.speed is the vehicle speed, as the "
        "node's speed_topic (default: the human's steering topic); the latest sample counts "
        "for speed_timeout_s",
    )
    topics.add_argument("--gps", help="NavSatFix topic")
    topics.add_argument(
        "--msg-dir", type=Path, action="append", default=[], help="folder of <pkg>/msg/*.msg"
    )
    topics.add_argument(
        "--manual-without-flag",
        action="store_true",
        help="without an auto-mode topic, treat the drive as manual (default: autonomous)",
    )


def replay_settings(args: argparse.Namespace, model: Path) -> ReplaySettings:
    """The replay settings that :func:`add_replay_options`' arguments give, for ``model``."""
    return ReplaySettings(
        model=model,
        pipeline=parse_params(args.param),
        camera_topic=args.camera,
        auto_topic=args.auto,
        steering_topic=args.steering,
        steering_wheel_ratio=args.steering_wheel_ratio,
        speed_topic=args.speed,
        gps_topic=args.gps,
        msg_dirs=tuple(args.msg_dir),
        noise_levels=tuple(args.noise_std),
        noise_seed=args.noise_seed,
        batch_size=args.batch_size,
        assume_autonomous=not args.manual_without_flag,
        allow_partial=getattr(args, "allow_partial", False),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ncp-replay",
        description=(
            "Replay a bag's camera stream through the on-car steering pipeline (the same code as "
            "the ROS 2 node: resets on engage and in manual mode, elapsed time from stamps, limits, "
            "watchdog) and compare the model's curvature with the human's. Writes output.csv, "
            "neurons.csv, sensory.csv, metrics.json, prediction.png and replay.mcap into OUT."
        ),
        epilog=EPILOG,
    )
    parser.add_argument(
        "bags", nargs="+", type=Path, help="bag file(s) or folder(s): one recording"
    )
    parser.add_argument(
        "--model", type=Path, help="exported .onnx model (default: models/ default)"
    )
    parser.add_argument("--out", type=Path, required=True, help="new output directory")
    parser.add_argument("--force", action="store_true", help="replace an existing --out")
    parser.add_argument(
        "--format", choices=TABLE_FORMATS, default="csv", help="tables as CSV, or CSV and Parquet"
    )
    parser.add_argument("--no-mcap", action="store_true", help="do not write replay.mcap")
    parser.add_argument(
        "--mcap-without-images",
        action="store_true",
        help="leave the camera topic out of replay.mcap",
    )
    parser.add_argument(
        "--mcap-saliency-hz",
        type=float,
        default=2.0,
        metavar="HZ",
        help="VisualBackProp saliency images in replay.mcap (/ncp/saliency, the camera's stamps "
        "and frame_id), at most HZ per second of the drive (default 2; 0: none)",
    )
    add_replay_options(parser)
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        help="replay what a damaged or cut-short bag gives instead of failing; metrics.json "
        "then says the input was partial",
    )
    parser.add_argument("--json", action="store_true", help="print metrics.json to stdout")
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None)
    progress.add_argument("--no-progress", dest="progress", action="store_false")
    return parser


def _progress(enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    def wrap(items: Iterable[Any], total: int) -> Iterable[Any]:
        return tqdm(items, total=total, unit="frame", desc="replay", file=sys.stderr)

    return wrap


def main(argv: Sequence[str] | None = None) -> int:
    """``ncp-replay``; the exit status follows :mod:`ncp_driver.exitcodes`."""
    args = build_parser().parse_args(argv)
    return run_command("ncp-replay", lambda: _replay(args), json_output=args.json)


def _replay(args: argparse.Namespace) -> None:
    model = args.model or default_model_path()
    settings = replay_settings(args, model)
    if args.out.exists() and not args.force:
        raise UsageError(f"{args.out} exists already: choose another --out or pass --force")
    show = sys.stderr.isatty() if args.progress is None else args.progress
    if args.mcap_saliency_hz < 0:
        raise UsageError(f"--mcap-saliency-hz {args.mcap_saliency_hz:g} must be 0 or more")
    saliency = None
    if not args.no_mcap and args.mcap_saliency_hz > 0:
        try:
            saliency = saliency_overlay(model, settings.pipeline)
        except ModelGraphError as exc:  # a model without a conv head has no VisualBackProp
            print(f"ncp-replay: note: replay.mcap without /ncp/saliency: {exc}", file=sys.stderr)
    result = replay(args.bags, settings, progress=_progress(show))
    write_replay(
        result,
        args.out,
        table_format=args.format,
        mcap=not args.no_mcap,
        mcap_images=not args.mcap_without_images,
        saliency=saliency,
        saliency_hz=args.mcap_saliency_hz,
        force=args.force,
    )
    doc = metrics_document(result)
    if not doc["input"].get("complete", True):
        lines = [
            f"{loss['topic']}: "
            f"{'some' if loss['missing'] is None else loss['missing']} message(s) lost"
            for loss in doc["input"]["losses"]
        ]
        print("ncp-replay: PARTIAL INPUT (--allow-partial): " + "; ".join(lines), file=sys.stderr)
    print(json.dumps(doc, indent=2) if args.json else _summary(doc, args.out))


def _fmt(value: Any, spec: str = ".4g") -> str:
    return "n/a" if value is None else format(value, spec)


def _summary(doc: dict[str, Any], out: Path) -> str:
    lines = [
        f"replayed {doc['frames']} frames in {doc['seconds']:.1f} s "
        f"({_fmt(doc['frames_per_second'], '.0f')} frames/s, {doc['mode']}, {doc['provider']})",
        f"model {doc['model']} ({doc['kind']}, sha256 {doc['model_sha256'][:12]})",
        f"statuses {doc['statuses']}; resets {doc['pipeline']['resets']}",
    ]
    if doc["human_label"]:
        for mode in ("autonomous", "manual", "all"):
            m = doc[mode]
            lines.append(
                f"{mode:>10}: MAE {_fmt(m['mae'])} 1/m, RMSE {_fmt(m['rmse'])} 1/m, "
                f"corr {_fmt(m['corr'], '.3f')} over {m['frames']} frames"
            )
    else:
        lines.append("the bag has no human steering: no agreement metrics")
    for level, metrics in doc.get("noise", {}).items():
        parts = [
            f"{mode} MAE {_fmt(metrics[mode]['mae'])} 1/m, corr {_fmt(metrics[mode]['corr'], '.3f')}"
            for mode in ("autonomous", "all")
        ]
        lines.append(f"noise std {level}: " + "; ".join(parts))
    skipped = sum(doc["skipped_messages"].values())
    if skipped:
        lines.append(
            f"skipped {skipped} message(s) that did not deserialise: {doc['skipped_messages']}"
        )
    lines.append(f"wrote {out}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

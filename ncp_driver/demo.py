"""``ncp-demo``: the whole stack on a built-in default, with no car, no ROS and no private data.

1. generate a synthetic drive as a ROS 2 bag (camera JPEGs, GPS, auto-mode flag with takeovers,
   the human's steering);
2. replay it through the on-car pipeline with the default model (``models/``);
3. count the takeovers and measure lateral discomfort with the bag tools;
4. write one HTML report: prediction against the human, the GPS track with takeovers, neuron
   activity, saliency, PCA and the figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ncp_driver.errors import UsageError
from ncp_driver.exitcodes import EPILOG, run_command

__all__ = ["main", "run_demo"]


def _step(text: str) -> float:
    print(f"[demo] {text}", flush=True)
    return time.perf_counter()


def _saliency_frames(bag: Path, model: Path, count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` evenly spaced preprocessed frames of the bag's camera, with their stamps."""
    from ncp_driver.bags import Recording
    from ncp_driver.bags.topics import find_topic
    from ncp_driver.images import decode_cropped, image_stamp
    from ncp_driver.replay.subgraphs import load_model, read_contract

    spec = read_contract(load_model(model), source=str(model)).preprocessing
    with Recording([bag]) as recording:
        camera = find_topic(recording.topics, "camera", None, recording.describe())
        total = recording.count([camera])
        wanted = set(np.linspace(0, total - 1, min(count, total)).astype(int).tolist())
        stamps, images = [], []
        for i, message in enumerate(recording.messages([camera])):
            if i in wanted:
                stamps.append(image_stamp(message.message))
                images.append(decode_cropped(message.message, spec, reduced_jpeg=False))
    return np.asarray(stamps), np.stack(images)


def run_demo(
    out: Path,
    *,
    duration_s: float = 45.0,
    seed: int = 7,
    size: tuple[int, int] = (1208, 1920),
    model: Path | None = None,
    force: bool = False,
) -> Path:
    """Run the demo into ``out``; returns the report's path."""
    from ncp_driver.bags import Recording
    from ncp_driver.bags.discomfort import recording_discomfort
    from ncp_driver.bags.motion import MotionSettings
    from ncp_driver.bags.output import write_json
    from ncp_driver.bags.takeovers import recording_takeovers
    from ncp_driver.models import default_model_path
    from ncp_driver.replay import ReplaySettings, replay, write_replay
    from ncp_driver.replay.layout import DISCOMFORT_FILE, TAKEOVERS_FILE
    from ncp_driver.report.audit import write_audit_report
    from ncp_driver.synth import DriveConfig, simulate_drive, write_ros2_bag

    model = model or default_model_path()
    out = Path(out)
    if out.exists() and not force and any(out.iterdir()):
        raise UsageError(f"{out} exists and is not empty: choose another --out or pass --force")
    out.mkdir(parents=True, exist_ok=True)
    bag, replay_dir, report = out / "drive", out / "replay", out / "report.html"

    start = _step(
        f"generating a {duration_s:.0f} s synthetic drive ({size[0]}x{size[1]} frames, seed {seed}) -> {bag}"
    )
    drive = simulate_drive(
        DriveConfig(seed=seed, duration_s=duration_s, height=size[0], width=size[1])
    )
    write_ros2_bag(drive, bag, storage="sqlite3", compressed=True, force=force)
    times = drive.summary()["takeover_times_s"]
    assert isinstance(times, list)
    print(
        f"       {drive.frame_count} frames, takeovers at "
        f"{', '.join(f'{t:.2f} s' for t in times)} ({time.perf_counter() - start:.1f} s)"
    )

    start = _step(f"replaying it through the on-car pipeline with {model}")
    result = replay([bag], ReplaySettings(model=model))
    write_replay(result, replay_dir, mcap=True, force=force)
    metrics = result.metrics()
    fps = result.frames / result.seconds
    print(
        f"       {result.frames} frames at {fps:.0f} frames/s; curvature MAE "
        f"{metrics['autonomous'].mae:.4f} 1/m, corr {metrics['autonomous'].corr:.3f} while "
        f"autonomous ({time.perf_counter() - start:.1f} s)"
    )

    start = _step("counting takeovers and measuring lateral discomfort (ncp-bag)")
    with Recording([bag]) as recording:
        takeovers = recording_takeovers(
            recording, map_path=replay_dir / "takeover_map.png", force=force
        )
        discomfort = recording_discomfort(
            recording, MotionSettings(), plot_path=replay_dir / "discomfort.png", force=force
        )
    write_json(replay_dir / TAKEOVERS_FILE, takeovers.to_json(), force=force)
    write_json(replay_dir / DISCOMFORT_FILE, discomfort.to_json(), force=force)
    print(f"       {takeovers.count} takeovers ({time.perf_counter() - start:.1f} s)")

    start = _step("looking inside the network and writing the report")
    frames = _saliency_frames(bag, model, 8)
    write_audit_report(
        replay_dir,
        report,
        model=model,
        saliency_frames=frames,
        title="ncp_driver demo: a synthetic drive",
    )
    print(f"       ({time.perf_counter() - start:.1f} s)")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    from ncp_driver.synth.cli import parse_size  # the bags extra, as the demo's work

    parser = argparse.ArgumentParser(
        prog="ncp-demo", epilog=EPILOG, description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--out", type=Path, default=Path("demo_output"), help="output folder (default demo_output)"
    )
    parser.add_argument(
        "--duration", type=float, default=45.0, help="seconds of driving (default 45)"
    )
    parser.add_argument(
        "--seed", type=int, default=7, help="the synthetic drive's seed (default 7)"
    )
    parser.add_argument(
        "--size",
        type=parse_size,
        default=(1208, 1920),
        help="camera HEIGHTxWIDTH (default 1208x1920)",
    )
    parser.add_argument(
        "--model", type=Path, help="exported .onnx model (default: the one in models/)"
    )
    parser.add_argument(
        "--force", action="store_true", help="replace the outputs of an earlier run"
    )
    args = parser.parse_args(argv)
    began = time.perf_counter()

    def work() -> None:
        report = run_demo(
            args.out,
            duration_s=args.duration,
            seed=args.seed,
            size=args.size,
            model=args.model,
            force=args.force,
        )
        print(
            f"[demo] done in {time.perf_counter() - began:.0f} s. Open the report: "
            f"{report.resolve()}"
        )

    return run_command("ncp-demo", work)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

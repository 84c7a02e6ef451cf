"""Speed of the fleet evaluation: ``ncp-eval``'s local pool against running ``ncp-replay`` on
each drive in turn, over the same drives with the same model, in one run.

Issue 15's target: 8 drives of 1 minute on 2 cores, at least 1.4x (one replay already keeps
about 1.3 cores busy, so the pool has little left to win on 2 cores; it gains by overlapping one
drive's start-up, single-threaded stretches and output writing with another's replay).

The drives are generated with ``ncp_driver.synth`` (JPEG ``CompressedImage`` at 15 Hz, auto-mode
flag with takeovers, steering, GPS; different seeds), in parallel, before any timing. The model
is the committed default (``models/``). Passes, each a fresh process from the command line, as
a user would run them:

- in turn: ``ncp-replay DRIVE --model M --out DIR --no-mcap --no-progress`` for each drive;
- pool: ``ncp-eval DRIVES --candidate M --out DIR --jobs N --no-progress`` (a fresh cache);
- cached: the same ``ncp-eval`` again: everything comes from the cache.

The passes run once per round, rounds interleaved (``--repeats``, default 3), and the medians
are reported, so a change in the machine's load touches both alike. The per-drive outputs of
the two are compared (``output.csv`` byte for byte). Wall-clock times; the ratio is in turn /
pool.

    python benchmarks/eval_benchmark.py                       # 8 drives x 60 s, 2 workers
    python benchmarks/eval_benchmark.py --drives 2 --duration 10   # a quick look
    python benchmarks/eval_benchmark.py --keep /tmp/eb        # keep (and reuse) the drives
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ncp_driver.models import default_model_path
from ncp_driver.replay.layout import OUTPUT_FILE
from ncp_driver.synth import DriveConfig, simulate_drive, write_ros2_bag
from ncp_driver.synth.cli import parse_size

TARGET = 1.4


def _make(args: tuple[int, float, tuple[int, int], Path]) -> str:
    seed, duration, size, path = args
    if not path.exists():
        takeovers = 3 if duration >= 30 else 1
        config = DriveConfig(
            seed=seed,
            duration_s=duration,
            height=size[0],
            width=size[1],
            takeover_count=takeovers,
        )
        write_ros2_bag(simulate_drive(config), path, compressed=True)
    return str(path)


def _bin(name: str) -> str:
    found = Path(sys.executable).with_name(name)
    return str(found) if found.exists() else name


def _timed(command: list[str]) -> float:
    begin = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - begin
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drives", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60.0, help="s per drive (60)")
    parser.add_argument("--size", type=parse_size, default=(483, 768), help="camera HxW")
    parser.add_argument("--jobs", type=int, default=2, help="ncp-eval --jobs (2)")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--keep", type=Path, help="folder to keep (and reuse) the drives in")
    args = parser.parse_args()
    model = args.model or default_model_path()
    root = args.keep or Path(tempfile.mkdtemp(prefix="eval_benchmark_"))
    drives_dir = root / "drives"
    drives_dir.mkdir(parents=True, exist_ok=True)
    runs = root / "runs"
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}")
    print(
        f"drives: {args.drives} x {args.duration:g} s, {args.size[0]}x{args.size[1]} JPEG at 15 Hz"
        f"; model {model}"
    )
    begin = time.perf_counter()
    jobs = [(seed, args.duration, args.size, drives_dir / f"drive{seed:02d}")
            for seed in range(1, args.drives + 1)]  # fmt: skip
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        bags = list(pool.map(_make, jobs))
    print(f"generated in {time.perf_counter() - begin:.1f} s (not timed below)")
    try:
        in_turn_runs, pool_runs, cached_runs = [], [], []
        for round_ in range(args.repeats):
            base = runs / f"round{round_}"
            in_turn = 0.0
            for bag in bags:
                out = base / "replay" / Path(bag).name
                replay = [_bin("ncp-replay"), bag, "--model", str(model), "--out", str(out)]
                in_turn += _timed([*replay, "--no-mcap", "--no-progress"])
            eval_out = base / "eval"
            command = [_bin("ncp-eval"), str(drives_dir), "--candidate", str(model), "--out",
                       str(eval_out), "--jobs", str(args.jobs), "--no-progress"]  # fmt: skip
            pool_s = _timed(command)
            cached_runs.append(_timed(command))
            in_turn_runs.append(in_turn)
            pool_runs.append(pool_s)
            print(
                f"round {round_ + 1}: in turn {in_turn:.1f} s, pool {pool_s:.1f} s, "
                f"cached {cached_runs[-1]:.1f} s"
            )
        summary = json.loads((eval_out / "summary.json").read_text())
        same = 0
        for drive in summary["drives"]:
            ours = eval_out / drive["replays"]["candidate"] / OUTPUT_FILE
            theirs = base / "replay" / drive["name"] / OUTPUT_FILE
            same += ours.read_bytes() == theirs.read_bytes()
        frames = summary["overall"]["frames"]
        in_turn, pool_s = statistics.median(in_turn_runs), statistics.median(pool_runs)
        ratios = [a / b for a, b in zip(in_turn_runs, pool_runs, strict=True)]
        ratio = statistics.median(ratios)
        print(f"frames: {frames}; output.csv identical on {same}/{len(bags)} drives")
        print(f"median of {args.repeats} interleaved rounds:")
        print(f"ncp-replay in turn:     {in_turn:7.1f} s  ({frames / in_turn:6.0f} frames/s)")
        print(
            f"ncp-eval pool ({args.jobs} jobs): {pool_s:7.1f} s  ({frames / pool_s:6.0f} frames/s)"
        )
        print(f"ncp-eval again (cache): {statistics.median(cached_runs):7.1f} s")
        verdict = "meets" if ratio >= TARGET else "misses"
        print(
            f"speed-up: {ratio:.2f}x, median of the rounds' ratios "
            f"({', '.join(f'{r:.2f}' for r in ratios)}; {verdict} the {TARGET}x target)"
        )
        return 0 if same == len(bags) else 1
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

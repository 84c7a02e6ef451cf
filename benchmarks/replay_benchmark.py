"""Speed of the replay: a ROS 2 sqlite3 bag of raw 1280 x 720 frames, end to end, against a
frame-by-frame torch loop over the same frames, in one run.

Issue 6's target: at least 400 frames/s end to end on a 2-core CPU, and at least 2x the
frame-by-frame torch loop.

The bag is generated with ``ncp-synth`` (raw bgr8 ``sensor_msgs/Image``, 15 Hz, auto-mode flag
with takeovers, steering, GPS); the model is the paper-sized NCP (conv head + LTC on the
19-neuron wiring, untrained, seed 20190120) exported with ``ncp_driver.export``. Passes, each
over the whole bag from its start:

- read only: the camera messages deserialised with rosbags, nothing else;
- read + decode + preprocess only: what the replay's reader thread does, alone;
- replay, batched head: ``ncp_driver.replay.replay()`` with ``batch_size`` 64: reading,
  decoding, preprocessing, the conv head over a batch, the cell frame by frame, the pipeline's
  logic (modes, resets, limits), the metrics' inputs; not writing the outputs, which is timed on
  its own once (``write_replay(..., mcap=False)``, i.e. ``ncp-replay --no-mcap``);
- replay, frame by frame: the same with ``batch_size`` 1 (the car's ``SteeringModel``), which is
  ``ncp-replay``'s default and what the targets are checked on;
- baseline: what one would write without this stack: read the bag with rosbags, decode and
  preprocess with ``ncp_driver.images.decode_cropped`` and ``to_model_input``, and run the torch
  model's ``step`` frame by frame with its state, under ``torch.no_grad()``, with the same
  number of threads.

Every pass runs once per round, rounds interleaved (``--repeats``), and the median round is
reported, so a change in the machine's load touches all passes alike. The bag is written just
before, so all passes read it from the page cache. Rates are frames / wall-clock seconds of a
whole pass; the process's CPU time (all threads) is printed beside them: below the wall time
when other processes hold the cores, above it when the replay's two threads both ran.

    python benchmarks/replay_benchmark.py                  # 1,000 frames (a 2.8 GB bag)
    python benchmarks/replay_benchmark.py --frames 200     # a quick look
    python benchmarks/replay_benchmark.py --keep /tmp/rb   # keep (and reuse) bag and model
    python benchmarks/replay_benchmark.py --profile        # cProfile of where the time goes
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import os
import platform
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from ncp_driver.bags import Recording
from ncp_driver.images import decode_cropped
from ncp_driver.preprocessing import PAPER_PREPROCESSING, to_model_input
from ncp_driver.replay.engine import ReplayResult, ReplaySettings, replay
from ncp_driver.replay.outputs import write_replay
from ncp_driver.runtime import PipelineConfig
from ncp_driver.synth import cli as synth_cli

TARGET_FPS = 400.0
TARGET_SPEEDUP = 2.0
CAMERA_HZ = 15.0
PAPER_SEED = 20190120


@dataclass
class Pass:
    """One timed pass over the whole bag."""

    name: str
    frames: int
    wall_s: float
    cpu_s: float

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else math.inf


def measure(name: str, fn: Callable[[], int]) -> Pass:
    """Time ``fn`` (which returns the frames it went through): wall clock and process CPU."""
    wall, cpu = time.perf_counter(), time.process_time()
    frames = fn()
    return Pass(name, frames, time.perf_counter() - wall, time.process_time() - cpu)


def median_pass(passes: list[Pass]) -> Pass:
    return sorted(passes, key=lambda p: p.wall_s)[len(passes) // 2]


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def generate_bag(folder: Path, frames: int, encoding: str) -> Path:
    """A ROS 2 sqlite3 bag of ``frames`` raw 1280 x 720 frames at 15 Hz, written by ncp-synth."""
    bag = folder / f"drive_{frames}_{encoding}"
    if bag.exists():
        print(f"  bag: reusing {bag}")
        return bag
    duration = frames / CAMERA_HZ
    takeovers = 3 if duration >= 60 else (1 if duration >= 20 else 0)
    argv = [
        "--out", str(bag), "--format", "ros2-sqlite3", "--size", "720x1280",
        "--encoding", encoding, "--duration", repr(duration), "--camera-hz", str(CAMERA_HZ),
        "--takeovers", str(takeovers), "--no-progress",
    ]  # fmt: skip
    print(f"  bag: ncp-synth {' '.join(argv)}")
    start = time.perf_counter()
    if synth_cli.main(argv) != 0:
        raise SystemExit("ncp-synth failed")
    print(f"  (generated in {time.perf_counter() - start:.1f} s)")
    return bag


def export_model(folder: Path) -> tuple[Any, Path]:
    """The paper-sized NCP, untrained, exported (or the one exported earlier into ``folder``)."""
    from ncp_driver.export import export_onnx
    from ncp_driver.training.networks import build_model

    model = build_model("ncp", seed=PAPER_SEED, frame_period_s=1.0 / CAMERA_HZ).eval()
    path = folder / "paper_ncp.onnx"
    if not path.exists():
        export_onnx(model, path, check=False)
    return model, path


def read_only(bag: Path, camera: str) -> int:
    count = 0
    with Recording([bag]) as recording:
        for _ in recording.messages([camera]):
            count += 1
    return count


def torch_loop(bag: Path, camera: str, model: Any) -> tuple[int, list[float]]:
    """Frame by frame: rosbags, decode_cropped + to_model_input, the torch model's step."""
    import torch
    from rosbags.highlevel import AnyReader

    spec = PAPER_PREPROCESSING
    state = model.initial_state(1, torch.device("cpu"))
    elapsed = torch.full((1, 1), 1.0 / CAMERA_HZ)
    frame = np.zeros(spec.input_shape, np.float32)
    out: list[float] = []
    with torch.no_grad(), AnyReader([bag]) as reader:
        connections = [c for c in reader.connections if c.topic == camera]
        for connection, _, data in reader.messages(connections):
            msg = reader.deserialize(data, connection.msgtype)
            to_model_input(decode_cropped(msg, spec), spec, out=frame)
            curvature, state, _, _ = model.step(torch.from_numpy(frame)[None], state, elapsed)
            out.append(float(curvature[0, 0]))
    return len(out), out


def prepare_only(bag: Path, camera: str) -> int:
    """What the replay's reader thread does, alone: read, deserialise, decode, preprocess."""
    spec = PAPER_PREPROCESSING
    count = 0
    with Recording([bag]) as recording:
        for message in recording.messages([camera]):
            image = decode_cropped(message.message, spec)
            to_model_input(image, spec, out=np.empty(spec.input_shape, np.float32))
            count += 1
    return count


def run_replay(bag: Path, model: Path, batch_size: int, threads: int) -> ReplayResult:
    config = PipelineConfig(intra_op_threads=threads)
    return replay([bag], ReplaySettings(model=model, pipeline=config, batch_size=batch_size))


def profile(fn: Callable[[], Any], lines: int = 25) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(lines)
    return text.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=1000, help="frames in the bag (1000)")
    parser.add_argument("--encoding", choices=("bgr8", "rgb8"), default="bgr8")
    parser.add_argument("--batch-size", type=int, default=64, help="the batched replay's (64)")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime and torch threads")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of passes (median)")
    parser.add_argument("--keep", type=Path, help="folder for the bag and model, kept (reused)")
    parser.add_argument("--no-torch", action="store_true", help="skip the torch baseline")
    parser.add_argument("--profile", action="store_true", help="cProfile the batched replay")
    args = parser.parse_args(argv)
    if args.frames < 1 or args.repeats < 1:
        parser.error("--frames and --repeats must be >= 1")

    import torch

    torch.set_num_threads(max(args.threads, 1))
    folder = args.keep or Path(tempfile.mkdtemp(prefix="replay_benchmark_"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        print("replay benchmark")
        print(
            f"  machine: {platform.machine()}, {os.cpu_count()} CPUs (nproc "
            f"{len(os.sched_getaffinity(0))}), load average {load_line()} at the start "
            "(others' work makes figures noisy)"
        )
        print(
            f"  python {platform.python_version()}, onnxruntime {ort.__version__}, torch "
            f"{torch.__version__}, numpy {np.__version__}; threads {args.threads} (onnxruntime "
            "intra-op and torch)"
        )
        bag = generate_bag(folder, args.frames, args.encoding)
        torch_model, model_path = export_model(folder)
        size_mb = sum(p.stat().st_size for p in bag.rglob("*") if p.is_file()) / 1e6
        with Recording([bag]) as recording:
            camera = next(
                t for t, i in recording.topics.items() if (i.msgtype or "").endswith("/Image")
            )
            count = recording.count([camera])
        print(f"  bag: {bag} ({size_mb:.0f} MB), {count} frames on {camera}, {args.encoding}")
        print(f"  model: {model_path.name} (paper NCP, untrained, seed {PAPER_SEED})")
        print(f"  {args.repeats} rounds of every pass, interleaved; the median round is shown\n")

        # Every kind of pass once per round, rounds interleaved, so that a change in the
        # machine's load touches all kinds alike.
        rounds: dict[str, list[Pass]] = {}
        results: dict[str, ReplayResult] = {}

        def replay_pass(name: str, batch_size: int) -> int:
            results[name] = run_replay(bag, model_path, batch_size, args.threads)
            return results[name].frames

        names = {
            "read": "read only (rosbags, camera topic)",
            "prepare": "read + decode + preprocess only",
            "batched": f"replay, batched head ({args.batch_size})",
            "single": "replay, frame by frame (1)",
            "torch": "baseline: torch loop, frame by frame",
        }
        for _ in range(args.repeats):
            todo: list[tuple[str, Callable[[], int]]] = [
                ("read", lambda: read_only(bag, camera)),
                ("prepare", lambda: prepare_only(bag, camera)),
                ("batched", lambda: replay_pass("batched", args.batch_size)),
                ("single", lambda: replay_pass("single", 1)),
            ]
            if not args.no_torch:
                todo.append(("torch", lambda: torch_loop(bag, camera, torch_model)[0]))
            for key, fn in todo:
                rounds.setdefault(key, []).append(measure(names[key], fn))
        batched_result = results["batched"]

        def write() -> int:
            write_replay(batched_result, folder / "replay_out", mcap=False, force=True)
            return batched_result.frames

        rounds["write"] = [measure("write_replay --no-mcap", write)]

        best = {key: median_pass(passes) for key, passes in rounds.items()}
        baseline = best.get("torch")
        print(f"results ({count} frames; load average {load_line()} at the end)")
        for key, p in best.items():
            spread = ", ".join(f"{q.fps:.0f}" for q in rounds[key])
            text = (
                f"  {p.name:<38} {p.fps:7.1f} frames/s  ({p.wall_s:6.2f} s wall, "
                f"{p.cpu_s:6.2f} s CPU; rounds: {spread} frames/s)"
            )
            if baseline is not None and key in ("batched", "single"):
                text += f"  {p.fps / baseline.fps:.2f}x baseline"
            print(text)
        end_to_end = Pass(
            "batched replay + write_replay --no-mcap",
            best["batched"].frames,
            best["batched"].wall_s + best["write"].wall_s,
            best["batched"].cpu_s + best["write"].cpu_s,
        )
        print(
            f"  {end_to_end.name:<38} {end_to_end.fps:7.1f} frames/s  "
            f"({end_to_end.wall_s:6.2f} s wall, {end_to_end.cpu_s:6.2f} s CPU)"
        )
        print(f"  batched / frame by frame: {best['batched'].fps / best['single'].fps:.2f}x")
        diff = np.nanmax(
            np.abs(
                results["batched"].clean.array("raw_curvature")
                - results["single"].clean.array("raw_curvature")
            )
        )
        print(f"  batched vs frame by frame: max |raw curvature difference| {diff:.2e} 1/m")
        print(
            f"  statuses {sorted(set(batched_result.clean.status))}; "
            f"resets {batched_result.stats['resets']}"
        )

        print("\ntargets (ncp-replay as it runs by default: frame by frame, batch size 1)")
        fps = best["single"].fps
        verdicts = [(f"replay >= {TARGET_FPS:.0f} frames/s", fps >= TARGET_FPS)]
        if baseline is not None:
            verdicts.append(
                (
                    f"replay >= {TARGET_SPEEDUP:.0f}x the torch loop",
                    fps >= TARGET_SPEEDUP * baseline.fps,
                )
            )
        for text, ok in verdicts:
            print(f"  [{'met' if ok else 'MISSED'}] {text}")

        if args.profile:
            print("\ncProfile of the batched replay, calling thread (sorted by own time)")
            print(profile(lambda: run_replay(bag, model_path, args.batch_size, args.threads)))
            print("cProfile of the reader thread's work run alone (read, deserialise, decode,")
            print("preprocess; sorted by own time)")
            print(profile(lambda: prepare_only(bag, camera)))
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

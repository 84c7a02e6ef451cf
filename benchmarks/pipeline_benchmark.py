"""Speed and memory of the on-car pipeline, against the same network in torch eager.

Camera messages go through ``SteeringPipeline.process_image`` end to end (decode, crop, resize,
scale, model step with its state, limits): raw 1280 x 720 bgr8, raw 1920 x 1208 rgb8 and a
1280 x 720 JPEG CompressedImage. The baseline is what a user would write without this stack,
timed in the same run on the same frames: decode the full frame (numpy view + cvtColor, or
cv2.imdecode), THE preprocessing, then the torch model's ``step`` in eager mode under
``torch.no_grad()`` with the same thread count. Prints median and p99 per frame, the ratio,
the pipeline's stage split, and the resident memory after 1,000 and 10,000 frames. Targets are
judged on wall-clock medians; the CPU time of the calling thread is printed beside them, as it
shows the cost when other processes compete for the cores (a GPU's time is not in it).

    python benchmarks/pipeline_benchmark.py                      # CPU, paper NCP exported here
    python benchmarks/pipeline_benchmark.py --providers cuda,cpu # GPU (onnxruntime-gpu)
    python benchmarks/pipeline_benchmark.py --model model.onnx --no-torch  # on the car

Without ``--model`` the paper-sized NCP (conv head + LTC on the 19-neuron wiring, untrained,
seed 20190120) is built with ``ncp_driver.training`` and exported with ``ncp_driver.export``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort

from ncp_driver.images.messages import compressed_message, image_message, stamp_to_time
from ncp_driver.preprocessing import crop_and_resize, to_model_input
from ncp_driver.runtime import PipelineConfig, SteeringPipeline

TARGET_RAW_MS = 1.5
TARGET_SPEEDUP = 2.0
TARGET_JPEG_MS = 5.0
TARGET_RSS_GROWTH_MB = 5.0


def road_frame(height: int, width: int, shift: int, seed: int = 0) -> np.ndarray:
    """A camera-like RGB frame: sky, textured verge, asphalt, lane markings, a shadow band."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    horizon = 0.45 * height
    grain = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 1.5)
    img = np.empty((height, width, 3), np.float32)
    img[...] = np.stack([60 + 25 * grain, 110 + 30 * grain, 50 + 15 * grain], -1)
    sky = yy < horizon
    img[sky] = np.array([150.0, 185.0, 230.0])
    centre = width / 2 + shift + 0.1 * width * np.sin(yy / height * 3)
    half = (yy - horizon).clip(0) / (height - horizon) * 0.55 * width + 4
    road = (~sky) & (np.abs(xx - centre) < half)
    img[road] = np.stack([95 + 12 * grain] * 3, -1)[road]
    for offset in (-0.9, 0.0, 0.9):
        img[road & (np.abs(xx - centre - offset * half) < 0.03 * half + 1)] = 235
    img[(~sky) & (np.abs(xx - 0.3 * width - shift - 0.6 * (yy - horizon)) < 60)] *= 0.55
    return np.clip(cv2.GaussianBlur(img, (0, 0), 0.7), 0, 255).astype(np.uint8)


def rss_mb() -> float:
    """Resident set size of this process in MB (from /proc/self/status)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


@dataclass
class Timing:
    median_ms: float
    p99_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> Timing:
        ms = np.asarray(seconds) * 1e3
        return cls(float(np.median(ms)), float(np.percentile(ms, 99)))

    def __str__(self) -> str:
        return f"median {self.median_ms:7.3f} ms   p99 {self.p99_ms:7.3f} ms"


class Stream:
    """Camera messages with increasing 30 Hz stamps, cycling over a few distinct frames."""

    def __init__(self, messages: list[Any], frames: list[np.ndarray], start: float = 1000.0):
        self.messages, self.frames, self.i, self.start = messages, frames, 0, start

    def next(self) -> tuple[Any, np.ndarray, float]:
        k = self.i % len(self.messages)
        stamp = self.start + self.i / 30.0
        msg = self.messages[k]
        msg.header.stamp = stamp_to_time(stamp)
        self.i += 1
        return msg, self.frames[k], stamp


def time_pipeline(pipe: SteeringPipeline, stream: Stream, frames: int) -> dict[str, Timing]:
    total, cpu, pre, inf = [], [], [], []
    for _ in range(frames):
        msg, _, _ = stream.next()
        start, start_cpu = time.perf_counter(), time.thread_time()
        result = pipe.process_image(msg)
        total.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - start_cpu)
        if result.status != "ok":
            raise SystemExit(f"frame not processed: {result.status} {result.reason}")
        pre.append(result.preprocess_s)
        inf.append(result.inference_s)
    return {
        "total": Timing.of(total),
        "cpu": Timing.of(cpu),
        "preprocess": Timing.of(pre),
        "inference": Timing.of(inf),
    }


def torch_baseline(
    model: Any, device: str, decode: Callable[[Any], np.ndarray]
) -> Callable[[Any], float]:
    """One frame the way a user would: full decode, preprocessing, eager step with state."""
    import torch

    state = {"h": model.initial_state(1, torch.device(device))}
    elapsed = torch.full((1, 1), 1 / 30.0, device=device)

    def run(msg: Any) -> float:
        with torch.no_grad():
            rgb = decode(msg)
            frame = torch.from_numpy(to_model_input(crop_and_resize(rgb)))[None].to(device)
            curvature, state["h"], _, _ = model.step(frame, state["h"], elapsed)
            return float(curvature[0, 0])  # .item() waits for the device

    return run


def decode_raw_naive(msg: Any) -> np.ndarray:
    """What cv_bridge's imgmsg_to_cv2 + a colour conversion do: a full-frame RGB array."""
    rows = np.frombuffer(msg.data, np.uint8).reshape(msg.height, msg.step)
    pixels = rows[:, : msg.width * 3].reshape(msg.height, msg.width, 3)
    if msg.encoding == "bgr8":
        return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
    return pixels


def decode_jpeg_naive(msg: Any) -> np.ndarray:
    bgr = cv2.imdecode(np.asarray(msg.data), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit("the baseline could not decode a JPEG")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def time_calls(fn: Callable[[Any], float], stream: Stream, frames: int) -> tuple[Timing, Timing]:
    """Wall-clock and CPU time (this thread) per call."""
    seconds, cpu = [], []
    for _ in range(frames):
        msg, _, _ = stream.next()
        start, start_cpu = time.perf_counter(), time.thread_time()
        fn(msg)
        seconds.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - start_cpu)
    return Timing.of(seconds), Timing.of(cpu)


def export_paper_ncp(folder: Path) -> tuple[Any, Path]:
    from ncp_driver.export import export_onnx
    from ncp_driver.training.networks import build_model

    model = build_model("ncp", seed=20190120).eval()
    path = folder / "paper_ncp.onnx"
    export_onnx(model, path, check=False)
    return model, path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--providers", default="cpu", help="e.g. cpu, cuda,cpu, tensorrt,cuda,cpu")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads (torch: same)")
    parser.add_argument("--frames", type=int, default=1000, help="timed frames per case")
    parser.add_argument("--warmup", type=int, default=100, help="untimed frames per case")
    parser.add_argument(
        "--memory-frames", type=int, default=10_000, help="frames of the memory check (>= 1000)"
    )
    parser.add_argument("--model", type=Path, help="an exported model (default: export one)")
    parser.add_argument("--no-torch", action="store_true", help="skip the torch baseline")
    parser.add_argument("--fallback", action="store_true", help="allow provider fallback")
    args = parser.parse_args(argv)
    if args.memory_frames < 1000:
        parser.error("--memory-frames must be at least 1000 (RSS is compared after 1,000 frames)")

    config = PipelineConfig(
        providers=tuple(args.providers.split(",")),
        allow_provider_fallback=args.fallback,
        intra_op_threads=args.threads,
        warmup_runs=10,
    )
    with tempfile.TemporaryDirectory() as tmp:
        torch_model = None
        if args.model is None:
            torch_model, model_path = export_paper_ncp(Path(tmp))
        else:
            model_path = args.model
        config = PipelineConfig(**{**config.__dict__, "model_path": str(model_path)})
        pipe = SteeringPipeline(config)
        pipe.set_autonomous(True)  # driving: the state runs on from frame to frame

        device = "cpu"
        use_torch = not args.no_torch
        if use_torch:
            import torch

            torch.set_num_threads(max(args.threads, 1))
            if torch_model is None:
                raise SystemExit("--model given: the torch baseline needs --no-torch")
            if pipe.stats.provider in ("cuda", "tensorrt") and torch.cuda.is_available():
                device = "cuda"
            torch_model = torch_model.to(device)

        load = os.getloadavg()
        print("pipeline benchmark")
        print(
            f"  machine: {platform.machine()}, {os.cpu_count()} CPUs, load average "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (others' work makes figures noisy)"
        )
        print(
            f"  python {platform.python_version()}, onnxruntime {ort.__version__}, "
            f"OpenCV {cv2.__version__}, numpy {np.__version__}"
        )
        print(
            f"  model: {model_path.name} ({pipe.model.contract.kind}, {pipe.model.contract.neuron_count} "
            f"neurons), sha256 {pipe.stats.model_hash[:16]}"
        )
        print(
            f"  provider in use: {pipe.stats.provider} (asked for {args.providers}); state on "
            f"device: {pipe.model.state_on_device}; threads {args.threads}; torch baseline on "
            f"{device if use_torch else '-'}"
        )
        print(f"  {args.frames} timed frames per case after {args.warmup} warm-up frames\n")

        cases = [
            ("raw 1280x720 bgr8", 720, 1280, "bgr8", decode_raw_naive),
            ("raw 1920x1208 rgb8", 1208, 1920, "rgb8", decode_raw_naive),
            ("JPEG 1280x720 q90", 720, 1280, "jpeg", decode_jpeg_naive),
        ]
        verdicts: list[tuple[str, bool]] = []
        for case, (name, height, width, encoding, naive) in enumerate(cases):
            frames = [road_frame(height, width, shift) for shift in (-60, -20, 20, 60)]
            messages: list[Any]
            if encoding == "jpeg":
                messages = [compressed_message(f, 0.0, "jpeg", quality=90) for f in frames]
            else:
                messages = [image_message(f, 0.0, encoding) for f in frames]
            stream = Stream(messages, frames, start=1000.0 + 1000.0 * case)
            # Another camera: release the frame-size lock, as the node's reset service does.
            pipe.reset_state("service")
            time_pipeline(pipe, stream, args.warmup)
            ours = time_pipeline(pipe, stream, args.frames)
            print(f"{name}")
            print(
                f"  pipeline     {ours['total']}   (CPU time median {ours['cpu'].median_ms:.3f} ms)"
            )
            print(
                f"    stages     decode+preprocess median {ours['preprocess'].median_ms:.3f} ms, "
                f"inference median {ours['inference'].median_ms:.3f} ms"
            )
            if use_torch:
                baseline = torch_baseline(torch_model, device, naive)
                time_calls(baseline, stream, args.warmup)
                theirs, theirs_cpu = time_calls(baseline, stream, args.frames)
                ratio = theirs.median_ms / ours["total"].median_ms
                print(f"  torch eager  {theirs}   (CPU time median {theirs_cpu.median_ms:.3f} ms)")
                print(
                    f"  ratio        {ratio:.2f}x faster (median), p99 {theirs.p99_ms / ours['total'].p99_ms:.2f}x"
                )
                if name.startswith("raw 1280"):
                    verdicts.append(
                        (f"{name}: >= {TARGET_SPEEDUP}x torch eager", ratio >= TARGET_SPEEDUP)
                    )
            if name.startswith("raw 1280"):
                verdicts.append(
                    (
                        f"{name}: median <= {TARGET_RAW_MS} ms",
                        ours["total"].median_ms <= TARGET_RAW_MS,
                    )
                )
            if name.startswith("JPEG"):
                verdicts.append(
                    (
                        f"{name}: median <= {TARGET_JPEG_MS} ms",
                        ours["total"].median_ms <= TARGET_JPEG_MS,
                    )
                )
            print()

        # Memory: a fresh stream through the same pipeline.
        frames = [road_frame(720, 1280, shift) for shift in (-40, 0, 40)]
        stream = Stream([image_message(f, 0.0, "bgr8") for f in frames], frames, start=9000.0)
        marks = {}
        for i in range(1, args.memory_frames + 1):
            msg, _, _ = stream.next()
            pipe.process_image(msg)
            if i in (1000, args.memory_frames):
                marks[i] = rss_mb()
        growth = marks[args.memory_frames] - marks[1000]
        print("memory (raw 1280x720 bgr8)")
        print(
            f"  RSS after 1,000 frames {marks[1000]:.1f} MB, after {args.memory_frames:,} "
            f"{marks[args.memory_frames]:.1f} MB: growth {growth:+.2f} MB"
        )
        verdicts.append(
            (
                f"RSS growth 1,000 -> {args.memory_frames:,} frames <= {TARGET_RSS_GROWTH_MB} MB",
                abs(growth) <= TARGET_RSS_GROWTH_MB,
            )
        )
        stats = pipe.stats
        print(
            f"  stats: {stats.frames_in} frames in, {stats.frames_processed} processed, "
            f"{stats.frames_rejected} rejected, {stats.frames_stale} stale, {stats.frames_dropped} "
            f"dropped, resets {stats.resets}\n"
        )
        print("targets")
        for text, ok in verdicts:
            print(f"  [{'met' if ok else 'MISSED'}] {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

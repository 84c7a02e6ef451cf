"""Benchmark of the bag tools against rosbags baselines measured in the same run.

Writes a ROS 2 sqlite3 bag of 1,000 raw 1280 x 720 bgr8 frames (30 Hz) plus GPS and the auto-mode
flag (10 Hz) into a temporary folder, then measures:

1. baseline: reading and deserialising every message of the bag with rosbags' AnyReader;
2. ``ncp-bag takeovers`` (reads only GPS and the flag), in-process, median of three runs (the
   first, which also imports the command's modules, is printed too): >= 20x faster than (1);
3. baseline: rosbags' raw read rate of the image topic (no deserialisation);
4. ``ncp-bag extract --only frames --crop --format h5`` (decode, crop and resize with the
   paper's preprocessing, one HDF5): its frame rate must be >= 0.5x of (3), its peak memory
   (``ru_maxrss`` of a separate process) under 500 MB;
5. for information: the same to NPZ, and full frames to JPEG files.

Run: ``python benchmarks/bag_benchmark.py [--frames 1000] [--keep DIR]``. Timings are wall
clock; on a shared machine they are noisy, the ratios less so.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rosbags.highlevel import AnyReader

from ncp_driver.bags import BagWriter
from ncp_driver.bags.cli import main as ncp_bag

T0_NS = 1_700_000_000 * 1_000_000_000
WIDTH, HEIGHT = 1280, 720
CAMERA = "/camera/image_raw"


def make_bag(path: Path, frames: int) -> None:
    """The benchmark bag: frames at 30 Hz, GPS and auto flag at 10 Hz, a takeover every 10 s."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    duration_s = frames / 30.0
    events: list[tuple[int, str]] = [(T0_NS + round(k * 1e9 / 30), "frame") for k in range(frames)]
    events += [(T0_NS + k * 100_000_000, "small") for k in range(int(duration_s * 10))]
    events.sort()
    with BagWriter(path, "sqlite3") as w:
        for k, (stamp, kind) in enumerate(events):
            sec, nsec = divmod(stamp, 1_000_000_000)
            header = {"stamp": {"sec": sec, "nanosec": nsec}, "frame_id": "x"}
            if kind == "frame":
                pixels = np.roll(base, k, axis=1)
                msg = w.message(
                    "sensor_msgs/msg/Image",
                    header=header,
                    height=HEIGHT,
                    width=WIDTH,
                    encoding="bgr8",
                    step=WIDTH * 3,
                    data=pixels.reshape(-1),
                )
                w.write(CAMERA, "sensor_msgs/msg/Image", stamp, msg)
                continue
            t = (stamp - T0_NS) * 1e-9
            fix = w.message(
                "sensor_msgs/msg/NavSatFix",
                header=header,
                latitude=42.0 + t * 1e-5,
                longitude=-71.0,
                status={"status": 0, "service": 1},
            )
            w.write("/gps/fix", "sensor_msgs/msg/NavSatFix", stamp, fix)
            auto = w.message("std_msgs/msg/Bool", data=(t % 10.0) < 8.0)
            w.write("/vehicle/autonomous", "std_msgs/msg/Bool", stamp, auto)


def deserialise_all(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    count = 0
    with AnyReader([path]) as reader:
        for conn, _, raw in reader.messages():
            reader.deserialize(raw, conn.msgtype)
            count += 1
    return time.perf_counter() - start, count


def raw_image_read(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    count = 0
    with AnyReader([path]) as reader:
        conns = [c for c in reader.connections if c.topic == CAMERA]
        for _ in reader.messages(conns):
            count += 1
    return time.perf_counter() - start, count


def takeovers(path: Path) -> tuple[float, dict[str, object]]:
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = ncp_bag(["takeovers", str(path), "--json", "--no-progress"])
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit("ncp-bag takeovers failed")
    return seconds, json.loads(out.getvalue())


CHILD = """
import json, resource, sys, time
import h5py, ncp_driver.bags.extract  # imported before the clock starts, like the baselines'
from ncp_driver.bags.cli import main
start = time.perf_counter()
code = main(sys.argv[1:])
seconds = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"code": code, "seconds": seconds, "peak_mb": peak_kb / 1024}), file=sys.stderr)
"""


def extract(path: Path, out: Path, *args: str) -> dict[str, float]:
    """``ncp-bag extract`` in a fresh process: time inside the command and the process's peak RSS."""
    cmd = [
        sys.executable,
        "-c",
        CHILD,
        "extract",
        str(path),
        "-o",
        str(out),
        "--no-progress",
        "--json",
        *args,
    ]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    process_s = time.perf_counter() - start
    result = json.loads(done.stderr.strip().splitlines()[-1])
    if result["code"] != 0:
        raise SystemExit(f"extract failed: {done.stderr}")
    written = json.loads(done.stdout)["outputs"][0]["count"]
    return {
        "seconds": result["seconds"],
        "peak_mb": result["peak_mb"],
        "frames": written,
        "process_s": process_s,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="keep the bag and outputs in this new folder")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bag_benchmark_")) if args.keep is None else args.keep
    root.mkdir(parents=True, exist_ok=True)
    bag = root / "bench"
    try:
        start = time.perf_counter()
        make_bag(bag, args.frames)
        size_gb = sum(p.stat().st_size for p in bag.iterdir()) / 1e9
        print(
            f"bag: {args.frames} frames {WIDTH}x{HEIGHT} bgr8 + GPS + auto flag, sqlite3, "
            f"{size_gb:.2f} GB, written in {time.perf_counter() - start:.1f} s"
        )
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")

        raw_image_read(bag)  # warm the page cache the same way for every reader
        t_all, n_all = deserialise_all(bag)
        runs = [takeovers(bag) for _ in range(3)]
        t_take, doc = sorted(runs, key=lambda r: r[0])[1]  # the median of three runs
        t_first = runs[0][0]
        t_raw, n_raw = raw_image_read(bag)
        h5 = extract(bag, root / "h5", "--only", "frames", "--crop", "--format", "h5")
        npz = extract(bag, root / "npz", "--only", "frames", "--crop", "--format", "npz")
        jpg = extract(bag, root / "jpg", "--only", "frames", "--format", "jpg")

        raw_rate = n_raw / t_raw
        print()
        print(f"baseline  deserialise whole bag (rosbags)   {t_all:8.3f} s  ({n_all} messages)")
        print(
            f"          ncp-bag takeovers (median of 3) {t_take:8.3f} s  "
            f"({doc['takeovers']} takeovers)   speed-up {t_all / t_take:7.1f}x  (goal >= 20x)"
        )
        print(
            f"          ncp-bag takeovers (first call)  {t_first:8.3f} s  "
            f"(includes importing its modules)   speed-up {t_all / t_first:7.1f}x"
        )
        print(f"baseline  raw image read (rosbags)          {raw_rate:8.1f} frames/s")
        for name, r in (("crop -> HDF5", h5), ("crop -> NPZ ", npz), ("full -> JPEG", jpg)):
            rate = r["frames"] / r["seconds"]
            goal = "  (goal >= 0.50, < 500 MB)" if name.startswith("crop -> HDF5") else ""
            print(
                f"          ncp-bag extract {name}       {rate:8.1f} frames/s  "
                f"ratio {rate / raw_rate:5.2f}  peak {r['peak_mb']:6.1f} MB  "
                f"(whole process {r['process_s']:.2f} s){goal}"
            )
        print(f"load average at end {os.getloadavg()[0]:.2f}")
        ok = (
            t_all / t_take >= 20
            and h5["frames"] / h5["seconds"] >= 0.5 * raw_rate
            and h5["peak_mb"] < 500
        )
        print("goals met" if ok else "GOALS NOT MET")
        return 0 if ok else 1
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

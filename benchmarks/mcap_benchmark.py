"""The project's MCAP writer against rosbags' rosbag2 MCAP writer, measured in the same run.

Writes ``--frames`` raw rgb8 camera messages (already CDR-serialised, 604 x 960, random pixels:
incompressible, so compression shows its cost and no gain) with:

1. baseline: rosbags' ``Writer(..., storage_plugin=StoragePlugin.MCAP)`` (a rosbag2 folder);
2. ``ncp_driver.bags.mcap_writer.McapWriter`` (one ``.mcap`` file, fsynced and renamed when
   complete), uncompressed (the default), zstd and lz4 chunks.

Prints seconds, MB/s and the ratio to the baseline (median of ``--rounds``). McapWriter fsyncs
the file before renaming it (an interrupted write never leaves a file that looks complete);
rosbags does not, so on a machine with free page cache the baseline measures memory and ours
the disk. Measured on the 2-core development VM: equal speed without the fsync. Run:
``python benchmarks/mcap_benchmark.py [--frames 300] [--rounds 3]``. On a shared machine the
timings are noisy; the ratios less so.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rosbags.rosbag2 import StoragePlugin, Writer

from ncp_driver.bags import make_typestore
from ncp_driver.bags.mcap_writer import McapWriter

IMAGE = "sensor_msgs/msg/Image"


def _messages(count: int) -> list[bytes]:
    store = make_typestore()
    types = store.types
    rng = np.random.default_rng(0)
    distinct = []
    for k in range(min(count, 8)):
        msg = types[IMAGE](
            header=types["std_msgs/msg/Header"](
                stamp=types["builtin_interfaces/msg/Time"](sec=k, nanosec=0), frame_id="camera"
            ),
            height=604,
            width=960,
            encoding="rgb8",
            is_bigendian=0,
            step=960 * 3,
            data=rng.integers(0, 255, 604 * 960 * 3, dtype=np.uint8),
        )
        distinct.append(bytes(store.serialize_cdr(msg, IMAGE)))
    return [distinct[k % len(distinct)] for k in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    store = make_typestore()
    data = _messages(args.frames)
    megabytes = sum(len(d) for d in data) / 1e6
    root = Path(tempfile.mkdtemp(prefix="ncp-mcap-bench-"))

    def rosbags_writer() -> None:
        writer = Writer(root / "rosbag2", version=9, storage_plugin=StoragePlugin.MCAP)
        writer.open()
        conn = writer.add_connection("/camera/image_raw", IMAGE, typestore=store)
        for k, raw in enumerate(data):
            writer.write(conn, k * 10**8, raw)
        writer.close()

    def ours(compression: str) -> Callable[[], None]:
        def run() -> None:
            with McapWriter(root / "ours.mcap", store, compression=compression) as writer:
                for k, raw in enumerate(data):
                    writer.write_raw("/camera/image_raw", IMAGE, k * 10**8, raw)

        return run

    cases = [
        ("rosbags rosbag2 MCAP (baseline)", rosbags_writer),
        ("McapWriter, uncompressed", ours("none")),
        ("McapWriter, zstd chunks", ours("zstd")),
        ("McapWriter, lz4 chunks", ours("lz4")),
    ]
    print(f"{args.frames} frames, {megabytes:.0f} MB of CDR, median of {args.rounds} rounds")
    baseline = None
    try:
        for name, run in cases:
            times = []
            for _ in range(args.rounds):
                start = time.perf_counter()
                run()
                times.append(time.perf_counter() - start)
                for path in root.iterdir():
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
            median = statistics.median(times)
            baseline = baseline or median
            print(
                f"{name:34s} {median:6.2f} s  {megabytes / median:7.0f} MB/s  "
                f"x{median / baseline:.2f} of the baseline's time"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

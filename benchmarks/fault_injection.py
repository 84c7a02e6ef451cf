"""Fault injection at scale (issue 10): the large runs behind the test suite's small seeded cases.

Slow (minutes); never run by the tests. Three campaigns, each seeded:

- camera messages: ``--messages`` fuzzed Image/CompressedImage messages (fields replaced by values
  of other types, bytes overwritten, data cut short, header sizes changed, stamps ahead of the
  clock) through the car's pipeline with its default limits and the committed model. Fails on
  any exception, any non-finite or out-of-limit command, or a curvature step larger than
  ``max_curvature_rate`` x the receipt-time interval;
- damaged bags: ``--bags`` copies of a small synthetic drive in each format (ROS 2 MCAP with JPEG
  frames, sqlite3, ROS 1) with bytes overwritten (1 B to 4 KiB) or the file cut at a random
  offset, each read completely. Fails if a read gives other per-topic counts than the bag
  declares without raising the bag layer's error;
- every outcome is counted and printed.

    python benchmarks/fault_injection.py                   # 5000 messages, 300 bags
    python benchmarks/fault_injection.py --messages 500 --bags 30
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver.bags import BagError, Recording
from ncp_driver.bags.errors import IncompleteBagError
from ncp_driver.images.messages import Header, Time, compressed_message, image_message
from ncp_driver.models import default_model_path
from ncp_driver.runtime import PipelineConfig, SteeringModel, SteeringPipeline
from ncp_driver.synth.cli import main as synth

VALUES: list[Any] = [None, -1, 0, 2**63, 10**30, math.nan, math.inf, "x", 1.5, b"", [], [1.0]]


def _frame(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    base = rng.random((height // 8, width // 8, 3))
    big = np.kron(base, np.ones((8, 8, 1))) * 255
    return np.clip(big + rng.normal(0, 6, big.shape), 0, 255).astype(np.uint8)


def fuzz_messages(count: int, seed: int) -> tuple[Counter[str], list[str]]:
    """Fuzzed camera messages through the car's pipeline; (outcomes, violations)."""
    rng = np.random.default_rng(seed)
    config = PipelineConfig(warmup_runs=0)
    pipe = SteeringPipeline(config, SteeringModel.load(default_model_path(), config))
    pipe.set_autonomous(True)
    templates = [
        image_message(_frame(rng, 240, 384), 0.0),
        image_message(_frame(rng, 240, 384), 0.0, encoding="bgr8"),
        compressed_message(_frame(rng, 240, 384), 0.0),
        compressed_message(_frame(rng, 240, 384), 0.0, codec="png"),
    ]
    outcomes: Counter[str] = Counter()
    violations: list[str] = []
    last: tuple[float, float] | None = None
    for i in range(count):
        now = 1000.0 + i / 30
        stamp = now + (float(rng.uniform(-0.6, 0.6)) if rng.random() < 0.05 else 0.0)
        msg: Any = dataclasses.replace(templates[i % len(templates)])
        msg.header = Header(Time(math.floor(stamp), round(stamp % 1 * 1e9) % 1_000_000_000))
        data = np.array(msg.data, np.uint8)
        kind = int(rng.integers(6))
        if kind == 0:
            names = [f.name for f in dataclasses.fields(msg) if f.name != "header"]
            setattr(msg, str(rng.choice(names)), VALUES[int(rng.integers(len(VALUES)))])
        elif kind == 1:
            start = int(rng.integers(data.size))
            data[start : start + int(rng.integers(1, 4096))] = rng.integers(0, 256)
            msg.data = data
        elif kind == 2:
            msg.data = np.concatenate([data[: int(rng.integers(data.size))], [0xFF, 0xD9]])
        elif kind == 3:
            msg.header.stamp.sec = VALUES[int(rng.integers(len(VALUES)))]
        try:
            result = pipe.process_image(msg, now=now)
        except Exception as exc:  # the violation this campaign looks for
            violations.append(f"message {i}: {type(exc).__name__}: {exc}")
            continue
        outcomes[result.status] += 1
        command = result.command
        if command is None:
            continue
        if not math.isfinite(command.curvature) or abs(command.curvature) > config.max_curvature:
            violations.append(f"message {i}: commanded {command.curvature}")
        if last is not None:
            allowed = config.max_curvature_rate * (now - last[0]) + 1e-9
            if abs(command.curvature - last[1]) > allowed:
                violations.append(f"message {i}: moved {command.curvature - last[1]:.4g} 1/m")
        last = (now, command.curvature)
    stats = pipe.stats
    outcomes.update({f"rejected: {k}": v for k, v in stats.rejections.items()})
    return outcomes, violations


def _data_file(bag: Path) -> Path:
    return bag if bag.is_file() else next(p for p in bag.iterdir() if p.suffix in (".mcap", ".db3"))


def damage_bags(count: int, seed: int, work: Path) -> tuple[Counter[str], list[str]]:
    """Damaged copies of a small drive in each format, read completely; (outcomes, violations)."""
    sources = {}
    for fmt in ("ros2-mcap", "ros2-sqlite3", "ros1"):
        out = work / (fmt + (".bag" if fmt == "ros1" else ""))
        args = ["--out", str(out), "--format", fmt, "--duration", "10", "--camera-hz", "10"]
        args += ["--size", "96x160", "--takeover-times", "6", "--no-progress"]
        if synth(args + ([] if fmt == "ros1" else ["--compressed"])) != 0:
            raise SystemExit(f"ncp-synth failed for {fmt}")
        sources[fmt] = out
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    violations: list[str] = []
    for case in range(count):
        fmt = list(sources)[case % len(sources)]
        bag = work / f"case{case}{'.bag' if fmt == 'ros1' else ''}"
        if sources[fmt].is_dir():
            shutil.copytree(sources[fmt], bag)
        else:
            shutil.copy(sources[fmt], bag)
        target = _data_file(bag)
        data = bytearray(target.read_bytes())
        if rng.random() < 0.25:
            data = data[: rng.randrange(64, len(data))]
            how = "cut"
        else:
            size = rng.choice([1, 8, 64, 512, 4096])
            at = rng.randrange(64, max(65, len(data) - size))
            data[at : at + size] = bytes(rng.randrange(256) for _ in range(size))
            how = f"{size} B at {at}"
        target.write_bytes(bytes(data))
        try:
            with Recording([bag]) as rec:
                declared = {t: info.msgcount for t, info in rec.topics.items()}
                read = Counter(m.topic for m in rec.messages(list(declared)))
                read.update(rec.skipped)  # deserialisation failures are counted, not lost
        except IncompleteBagError:
            outcomes[f"{fmt}: incomplete (loud)"] += 1
        except BagError:
            outcomes[f"{fmt}: unreadable (loud)"] += 1
        except Exception as exc:
            violations.append(f"{fmt} case {case} ({how}): raw {type(exc).__name__}: {exc}")
        else:
            if dict(read) == {t: n for t, n in declared.items() if n}:
                outcomes[f"{fmt}: complete"] += 1
            else:
                violations.append(f"{fmt} case {case} ({how}): silent loss {dict(read)}")
        if bag.is_dir():
            shutil.rmtree(bag)
        else:
            bag.unlink()
    return outcomes, violations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--bags", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    failed = False
    begin = time.perf_counter()
    outcomes, violations = fuzz_messages(args.messages, args.seed)
    print(f"camera messages: {args.messages} in {time.perf_counter() - begin:.1f} s")
    for name, n in sorted(outcomes.items()):
        print(f"  {name:<28} {n}")
    for line in violations[:20]:
        print(f"  VIOLATION {line}")
    failed |= bool(violations)
    begin = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        outcomes, violations = damage_bags(args.bags, args.seed, Path(folder))
    print(f"damaged bags: {args.bags} in {time.perf_counter() - begin:.1f} s")
    for name, n in sorted(outcomes.items()):
        print(f"  {name:<34} {n}")
    for line in violations[:20]:
        print(f"  VIOLATION {line}")
    failed |= bool(violations)
    print("FAILED: see the violations above" if failed else "held: no violation")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

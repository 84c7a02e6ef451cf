#!/usr/bin/env python3
"""Does recovery data help in closed loop? The same model trained with and without it, driven.

python analysis/recovery_benefit.py --out DIR [--seeds 1,2] [--drives 6] [--duration 60]
    [--recovery-offsets 0.4,0.8] [--recovery-yaw 3] [--kind ncp] [--epochs 30]
    [--roads 10] [--road-m 1000] [--noise-std 0]

Steps, each through the project's own commands (so each can be rerun by hand):

1. ``ncp-synth``: ``--drives`` training drives (seeds 100, 101, ...) with their recovery views
   into ``DIR/data/train`` and one validation drive (seed 200) into ``DIR/data/val``; frames
   preprocessed, ``--size`` (default 302x480).
2. ``ncp-train`` per training seed and arm, the same settings and seed for both arms:
   ``normal`` trains on the drives alone (the paper's recipe), ``recovery`` on the drives and
   their views (the same files plus the views). ``ncp-export`` makes each an ONNX model.
3. ``ncp-sim`` drives every model on the same held-out roads (seeds 300, ...: no training or
   demo road) at each ``--noise-std``; takeovers per km with 95 % Poisson intervals.

``--trained normal=A.onnx --trained recovery=B.onnx --seeds S`` skips steps 1-2 and drives two
models already trained that way (the committed default NCP and its normal-arm twin, whose
commands differ only in the recovery views; see models/README.md).

Writes ``DIR/recovery_benefit.json`` (per arm and seed, and pooled over seeds per arm) and
``DIR/recovery_benefit.png`` (takeovers per km per arm and seed, with intervals). Exit 0 when
everything ran, 1 when a step failed (its exit status and command are in the JSON), 2 on bad
arguments. An existing ``DIR`` is refused unless ``--force``.

How long it takes on the shared 2-core VM (estimates from figures measured elsewhere, not from a
run of this script): the data are quick (about 500 preprocessed frames per second were seen at
302 x 480 with views, so six 60 s drives with eight views each take well under a minute).
Training dominates: an ``ncp`` epoch of the default model's recipe (six 60 s drives, stride 8)
took 38-50 s (issue 14); at the default stride 16 expect about half that for the normal arm,
and nine times as long for the recovery arm with eight views (about 3-4 min an epoch), so the
defaults (2 seeds x 30 epochs) need roughly 4 hours, most of it the recovery arm; use
``ncp-train --resume`` on the run folders under ``DIR/runs`` to split it over sittings.
``ncp-sim`` measured 5.9x real time for one model at one noise level (docs/sim.md): 10 roads x
1 km (about 17 min of driving) take about 3 min per model and noise level per process. Only a
smoke run with tiny settings has been run (1 drive of 4 s, 1 batch, one 100 m road: 32 s).
The ``--trained`` mode made ``models/recovery_benefit/`` (two models, 10 roads x 1 km at
noise 0: about 4 min on the shared VM).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ncp_driver.schemas import Active

TRAIN_SEED0 = 100  # training drives 100, 101, ... (as the default model's)
VAL_SEED = 200
ROAD_SEED = 300  # ncp-sim's held-out roads
ARMS = ("normal", "recovery")


class StepFailed(Exception):
    """A command of the experiment exited non-zero."""

    def __init__(self, command: list[str], code: int, tail: str) -> None:
        super().__init__(f"{' '.join(command)} exited {code}: {tail}")
        self.command, self.code, self.tail = command, code, tail


def _numbers(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} must be comma-separated numbers") from None


def _ints(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} must be comma-separated integers") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="exit status: 0 ok, 1 a step failed, 2 usage error",
    )
    p.add_argument("--out", type=Path, required=True, help="new experiment directory")
    p.add_argument("--force", action="store_true", help="replace an existing --out")
    data = p.add_argument_group("data")
    data.add_argument("--drives", type=int, default=6, help="training drives (default 6)")
    data.add_argument("--duration", type=float, default=60.0, help="seconds per drive")
    data.add_argument("--size", default="302x480", help="camera HxW (default 302x480)")
    data.add_argument("--recovery-offsets", type=_numbers, default=[0.4, 0.8], metavar="M,...")
    data.add_argument("--recovery-yaw", type=_numbers, default=[3.0], metavar="DEG,...")
    train = p.add_argument_group("training (the same for both arms)")
    train.add_argument(
        "--trained",
        metavar="ARM=MODEL.onnx",
        action="append",
        default=[],
        help="skip steps 1-2: drive models already trained this way (one per arm, e.g. "
        "normal=a.onnx recovery=b.onnx; their cards or commands must say the two arms differ "
        "only in the recovery views); --seeds then names the one training seed they used",
    )
    train.add_argument("--seeds", type=_ints, default=[1, 2], help="training seeds (1,2)")
    train.add_argument("--kind", default="ncp")
    train.add_argument("--epochs", type=int, default=30)
    train.add_argument("--lr", type=float, default=None, help="default: ncp-train's")
    train.add_argument("--batch-size", type=int, default=None)
    train.add_argument("--seq-len", type=int, default=None)
    train.add_argument("--max-batches", type=int, default=None, help="smoke runs only")
    sim = p.add_argument_group("closed loop")
    sim.add_argument("--roads", type=int, default=10)
    sim.add_argument("--road-m", type=float, default=1000.0)
    sim.add_argument("--noise-std", type=_numbers, default=[0.0], metavar="STD,...")
    sim.add_argument("--render-scale", type=float, default=None, help="default: ncp-sim's")
    sim.add_argument("--jobs", type=int, default=None, help="ncp-sim processes")
    return p


def _run(command: list[str], log: Path) -> str:
    """Run one of the project's commands; its output goes to ``log``; raise on failure."""
    print("$ " + " ".join(command), flush=True)
    with log.open("a") as sink:
        sink.write("$ " + " ".join(command) + "\n")
        sink.flush()
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=sink, text=True)
        sink.write(done.stdout)
    if done.returncode != 0:
        tail = log.read_text()[-2000:]
        raise StepFailed(command, done.returncode, tail)
    return done.stdout


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        raise StepFailed([name], 2, f"{name} is not installed: pip install -e '.[dev]'")
    return found


def make_data(args: argparse.Namespace, root: Path, log: Path) -> tuple[list[Path], list[Path]]:
    """The normal training drives and all training files (drives and views)."""
    train, val = root / "data" / "train", root / "data" / "val"
    common = ["--format", "h5", "--preprocessed", "--size", args.size, "--no-progress"]
    common += ["--duration", f"{args.duration:g}", "--takeovers", "0"]
    views = []
    if args.recovery_offsets:
        views += ["--recovery-offsets", ",".join(f"{v:g}" for v in args.recovery_offsets)]
    if args.recovery_yaw:
        views += ["--recovery-yaw", ",".join(f"{v:g}" for v in args.recovery_yaw)]
    normal = []
    for i in range(args.drives):
        out = train / f"s{TRAIN_SEED0 + i}.h5"
        _run([_tool("ncp-synth"), "--out", str(out), "--seed", str(TRAIN_SEED0 + i), *common,
              *views], log)  # fmt: skip
        normal.append(out)
    _run([_tool("ncp-synth"), "--out", str(val / f"s{VAL_SEED}.h5"), "--seed", str(VAL_SEED),
          *common], log)  # fmt: skip
    return normal, sorted(train.glob("*.h5"))


def train_and_export(
    args: argparse.Namespace, root: Path, arm: str, seed: int, files: list[Path], log: Path
) -> tuple[Path, float]:
    """Train one arm at one seed and export it; the ONNX path and the training wall time."""
    runs = root / "runs" / f"{arm}-seed{seed}"
    command = [_tool("ncp-train"), "--train", *map(str, files), "--val",
               str(root / "data" / "val"), "--out", str(runs), "--kind", args.kind,
               "--epochs", str(args.epochs), "--seed", str(seed), "--no-progress"]  # fmt: skip
    for flag, value in (
        ("--lr", args.lr),
        ("--batch-size", args.batch_size),
        ("--seq-len", args.seq_len),
        ("--max-batches", args.max_batches),
    ):
        if value is not None:
            command += [flag, str(value)]
    begin = time.perf_counter()
    _run(command, log)
    wall = time.perf_counter() - begin
    (run,) = [p for p in runs.iterdir() if p.is_dir()]
    model = root / "models" / f"{arm}-seed{seed}.onnx"
    model.parent.mkdir(parents=True, exist_ok=True)
    _run([_tool("ncp-export"), str(run), "-o", str(model)], log)
    return model, wall


def trained_models(args: argparse.Namespace) -> dict[str, Path]:
    """``--trained ARM=PATH`` (one per arm, one ``--seeds``): the models by arm; ``{}`` when not
    given. Raises ``ValueError`` saying what is wrong."""
    if not args.trained:
        return {}
    given = dict(item.split("=", 1) for item in args.trained if "=" in item)
    if sorted(given) != sorted(ARMS) or len(args.trained) != len(ARMS) or len(args.seeds) != 1:
        raise ValueError(f"give one model per arm ({', '.join(ARMS)}) and one --seeds")
    missing = [path for path in given.values() if not Path(path).is_file()]
    if missing:
        raise ValueError(f"{', '.join(missing)} does not exist")
    return {arm: Path(given[arm]) for arm in ARMS}


def use_trained(
    trained: dict[str, Path], seed: int, root: Path
) -> tuple[list[Path], dict[str, float]]:
    """The given models, copied under the names the summary expects (no training time)."""
    models, walls = [], {}
    for arm, source in trained.items():
        model = root / "models" / f"{arm}-seed{seed}.onnx"
        model.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, model)
        models.append(model)
        walls[model.stem] = float("nan")
    return models, walls


def drive(args: argparse.Namespace, root: Path, models: list[Path], log: Path) -> Active:
    """``ncp-sim`` on the held-out roads: its active.json."""
    out = root / "sim"
    command = [_tool("ncp-sim"), *[a for m in models for a in ("--model", str(m))],
               "--roads", str(args.roads), "--road-m", f"{args.road_m:g}", "--seed",
               str(ROAD_SEED), "--size", args.size, "--out", str(out), "--no-bags",
               "--no-progress", "--noise-std", *(f"{s:g}" for s in args.noise_std)]  # fmt: skip
    if args.render_scale is not None:
        command += ["--render-scale", f"{args.render_scale:g}"]
    if args.jobs is not None:
        command += ["--jobs", str(args.jobs)]
    _run(command, log)
    from ncp_driver.schemas import Active

    return Active.read(out / Active.FILE)


def pooled(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Takeovers and kilometres summed over seeds, with a 95 % Poisson interval per km."""
    from ncp_driver.sim.figures import poisson_interval

    count = sum(int(e["takeovers"]) for e in entries)
    km = sum(float(e["autonomous_km"]) for e in entries)
    lo, hi = poisson_interval(count)
    rate = (lambda x: round(x / km, 6)) if km > 0 else (lambda x: None)
    return {
        "seeds": len(entries),
        "takeovers": count,
        "autonomous_km": round(km, 6),
        "takeovers_per_km": rate(count),
        "takeovers_per_km_95": [rate(lo), rate(hi)],
    }


def summarise(args: argparse.Namespace, doc: Active, walls: dict[str, float]) -> dict:
    results: dict[str, Any] = {}
    for noise in args.noise_std:
        row: dict[str, Any] = {}
        for arm in ARMS:
            per_seed = {}
            for seed in args.seeds:
                name = f"{arm}-seed{seed}"
                (entry,) = [
                    e for e in doc.results if e.model == name and (e.noise_std or 0.0) == noise
                ]
                per_seed[str(seed)] = {
                    k: getattr(entry, k)
                    for k in ("takeovers", "autonomous_km", "takeovers_per_km",
                              "takeovers_per_km_95", "lateral_offset_mean_m")
                }  # fmt: skip
                wall = walls[name]
                per_seed[str(seed)]["training_wall_s"] = None if wall != wall else round(wall, 1)
            row[arm] = {"per_seed": per_seed, "pooled": pooled(list(per_seed.values()))}
        results[f"{noise:g}"] = row
    return results


def plot(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    noises = list(summary["results"])
    fig, axes = plt.subplots(1, len(noises), figsize=(4 * len(noises), 3.5), squeeze=False)
    for ax, noise in zip(axes[0], noises, strict=True):
        row = summary["results"][noise]
        for a, arm in enumerate(ARMS):
            entries = [*row[arm]["per_seed"].values(), row[arm]["pooled"]]
            labels = [*(f"seed {s}" for s in row[arm]["per_seed"]), "pooled"]
            for k, (e, label) in enumerate(zip(entries, labels, strict=True)):
                if e["takeovers_per_km"] is None:
                    continue
                x = a * (len(entries) + 1) + k
                lo, hi = e["takeovers_per_km_95"]
                y = e["takeovers_per_km"]
                ax.bar(
                    x,
                    y,
                    color="C0" if arm == "normal" else "C1",
                    alpha=0.5 + 0.5 * (k == len(entries) - 1),
                )
                ax.errorbar(x, y, yerr=[[y - lo], [hi - y]], color="k", capsize=3)
                ax.text(x, 0, label, rotation=90, ha="center", va="bottom", fontsize=7)
        ax.set_xticks([(len(row["normal"]["per_seed"]) + 2) * a + 1 for a in range(2)], ARMS)
        ax.set_title(f"input noise {noise}")
        ax.set_ylabel("takeovers per km (95 % interval)")
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.partial.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    root: Path = args.out
    if args.drives < 1 or args.epochs < 1 or not args.seeds or args.roads < 1:
        print("error: --drives, --epochs, --roads must be >= 1 and --seeds not empty",
              file=sys.stderr)  # fmt: skip
        return 2
    if not (args.recovery_offsets or args.recovery_yaw):
        print("error: give --recovery-offsets or --recovery-yaw (else both arms are equal)",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        trained = trained_models(args)
    except ValueError as exc:
        print(f"error: --trained: {exc}", file=sys.stderr)
        return 2
    if root.exists():
        if not args.force:
            print(f"error: {root} exists already: choose another --out or pass --force",
                  file=sys.stderr)  # fmt: skip
            return 2
        shutil.rmtree(root)
    root.mkdir(parents=True)
    log = root / "commands.log"
    from ncp_driver.atomic import atomic_write_text

    summary: dict[str, Any] = {"settings": {k: str(v) if isinstance(v, Path) else v
                                            for k, v in vars(args).items()}}  # fmt: skip
    try:
        if trained:  # steps 1-2 were done elsewhere
            models, walls = use_trained(trained, args.seeds[0], root)
            summary["trained"] = {
                m.stem: str(trained[arm]) for m, arm in zip(models, ARMS, strict=True)
            }
        else:
            normal, everything = make_data(args, root, log)
            summary["training_files"] = {"normal": len(normal), "recovery": len(everything)}
            models, walls = [], {}
            for seed in args.seeds:
                for arm, files in (("normal", normal), ("recovery", everything)):
                    model, wall = train_and_export(args, root, arm, seed, files, log)
                    models.append(model)
                    walls[model.stem] = wall
        doc = drive(args, root, models, log)
        summary["results"] = summarise(args, doc, walls)
        plot(summary, root / "recovery_benefit.png")
        code = 0
    except StepFailed as exc:
        summary["failed"] = {"command": exc.command, "exit_status": exc.code, "log": exc.tail}
        print(f"error: {exc.command[0]} failed (exit {exc.code}); see {log}", file=sys.stderr)
        code = 1
    atomic_write_text(root / "recovery_benefit.json", json.dumps(summary, indent=2) + "\n")
    for noise, row in summary.get("results", {}).items():
        for arm in ARMS:
            p = row[arm]["pooled"]
            print(f"noise {noise} {arm:>8}: {p['takeovers']} takeovers in "
                  f"{p['autonomous_km']:.2f} km = {p['takeovers_per_km']} per km "
                  f"(95 %: {p['takeovers_per_km_95']})")  # fmt: skip
    print(f"wrote {root / 'recovery_benefit.json'}")
    return code


if __name__ == "__main__":
    sys.exit(main())

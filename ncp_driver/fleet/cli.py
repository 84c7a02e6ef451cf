"""``ncp-eval``: a candidate model (and a reference) over many drives, one verdict.

Exit status (:mod:`ncp_driver.exitcodes`): 0 the candidate is no worse (or there is nothing to
compare against); 1 a regression, no drive could be evaluated, (``--strict``) some drives could
not be, or a model the pipeline refuses; 2 a usage error (bad arguments, a missing drive or
model); 130 interrupted. ``--json`` prints the summary (or, when it stops, which problem).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ncp_driver.exitcodes import EPILOG, run_command
from ncp_driver.fleet.drives import find_drives
from ncp_driver.fleet.errors import FleetError
from ncp_driver.fleet.evaluate import EvalOptions, evaluate_fleet
from ncp_driver.fleet.output import write_fleet
from ncp_driver.fleet.verdict import Gate
from ncp_driver.fleet.work import DriveOutcome, Outputs
from ncp_driver.replay.cli import add_replay_options, replay_settings
from ncp_driver.schemas import FleetSummary

__all__ = ["build_parser", "main", "parse_fraction"]


def parse_fraction(text: str) -> float:
    """``5%`` or ``0.05`` -> 0.05."""
    value = text.strip()
    try:
        number = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a fraction (0.05) or a percentage (5%)"
        ) from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return number


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be > 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ncp-eval",
        description=(
            "Evaluate a candidate model against a reference over many drives: each drive is "
            "replayed with each model through the on-car pipeline (as ncp-replay does), in "
            "parallel, with a resumable cache; writes summary.json, frames/drives tables, "
            "report.html into OUT and exits 0 (no worse) or 1 (regression). See docs/eval.md."
        ),
        epilog=EPILOG + " Here 1 is also: a regression, no drive evaluated, or (--strict) a drive "
        "that could not be evaluated.",
    )
    parser.add_argument(
        "drives",
        nargs="+",
        help="a bag, a folder of bags, a glob or a manifest (.json/.txt/.manifest) with tags",
    )
    parser.add_argument(
        "--candidate", type=Path, required=True, help="the model under test (.onnx)"
    )
    parser.add_argument("--reference", type=Path, help="the model driven today (.onnx)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (re-usable)")
    run = parser.add_argument_group("running")
    run.add_argument(
        "--jobs", "-j", type=int, default=0, help="local worker processes (default: one per core)"
    )
    run.add_argument(
        "--timeout", type=_positive, help="seconds one drive may take (default: no limit)"
    )
    run.add_argument(
        "--ray",
        metavar="ADDRESS|auto|local",
        help="run the drives as Ray tasks: on a cluster (ADDRESS or auto; the drives on storage "
        "every worker reads) or on a Ray instance started here (local)",
    )
    run.add_argument("--ray-cpus", type=int, help="CPUs of a --ray local instance (default: all)")
    run.add_argument("--cache", type=Path, help="cache folder (default OUT/cache)")
    run.add_argument(
        "--refresh", action="store_true", help="replay again, replacing cached entries"
    )
    run.add_argument("--no-thumbnails", action="store_true", help="no camera frames on the page")
    progress = run.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None)
    progress.add_argument("--no-progress", dest="progress", action="store_false")
    gate = parser.add_argument_group("verdict (each check off unless given, except the first)")
    gate.add_argument(
        "--max-mae-regression", type=parse_fraction, default=0.05, metavar="PCT",
        help="candidate MAE at most this much above the reference's, pooled (default 5%%)",
    )  # fmt: skip
    gate.add_argument("--max-rmse-regression", type=parse_fraction, metavar="PCT")
    gate.add_argument("--max-corr-drop", type=float, metavar="D", help="correlation drop, absolute")
    gate.add_argument(
        "--max-drive-mae-regression", type=parse_fraction, metavar="PCT",
        help="the MAE check on every drive alone",
    )  # fmt: skip
    gate.add_argument("--max-p99-diff", type=float, metavar="V", help="p99 |cand - ref|, 1/m")
    gate.add_argument(
        "--max-diff-share", type=parse_fraction, metavar="PCT",
        help="share of frames with |cand - ref| over --diff-threshold",
    )  # fmt: skip
    gate.add_argument(
        "--max-mae", type=float, metavar="V", help="candidate MAE, 1/m (no reference needed)"
    )
    gate.add_argument(
        "--diff-threshold", type=float, default=0.002, metavar="V",
        help="|cand - ref| counted as differing, 1/m (default 0.002)",
    )  # fmt: skip
    gate.add_argument(
        "--gate-mode", choices=("all", "autonomous", "manual"), default="all",
        help="frames the agreement checks use (default all)",
    )  # fmt: skip
    gate.add_argument(
        "--strict", action="store_true", help="drives that could not be evaluated fail the run too"
    )
    gate.add_argument("--worst", type=int, default=10, help="worst divergent stretches listed (10)")
    replay = parser.add_argument_group("replay (as ncp-replay)")
    add_replay_options(parser)
    replay.add_argument("--format", choices=("csv", "parquet"), default="csv", help="replay tables")
    replay.add_argument("--mcap", action="store_true", help="write replay.mcap per drive and model")
    sim = parser.add_argument_group("closed loop (optional, needs ncp-sim)")
    sim.add_argument(
        "--sim-roads", type=int, metavar="N",
        help="also run ncp-sim on N seeded roads with both models (skipped with a message where "
        "the simulator is not installed); context, not part of the verdict",
    )  # fmt: skip
    sim.add_argument("--sim-seed", type=int, help="the road set (default: ncp-sim's)")
    sim.add_argument("--sim-road-m", type=float, metavar="M", help="length per road (ncp-sim's)")
    parser.add_argument("--json", action="store_true", help="print summary.json to stdout")
    return parser


class _Progress:
    """Drives done over the whole set (a bar on a terminal, a line per drive otherwise)."""

    def __init__(self, total: int, bar: bool) -> None:
        self.total, self.done, self.failed = total, 0, 0
        self.bar: Any = None
        if bar:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="drive", desc="ncp-eval", file=sys.stderr)

    def __call__(self, outcome: DriveOutcome) -> None:
        self.done += 1
        self.failed += outcome.status != "ok"
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(failed=self.failed)
            return
        what = (
            f"failed: {outcome.reason}"
            if outcome.status != "ok"
            else "replayed " + "+".join(outcome.replayed)
            if outcome.replayed
            else "from the cache"
        )
        print(
            f"[{self.done}/{self.total}] {outcome.name}: {what} ({outcome.seconds:.1f} s)",
            file=sys.stderr,
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _options(args: argparse.Namespace) -> EvalOptions:
    settings = replay_settings(args, args.candidate)
    if args.jobs < 0:
        raise FleetError(f"--jobs {args.jobs}: give 0 (one per core) or more")
    if args.ray is None and args.ray_cpus is not None:
        raise FleetError("--ray-cpus goes with --ray local")
    if args.ray is not None:
        try:
            import ray  # noqa: F401
        except ImportError:
            raise FleetError(
                "--ray needs Ray, which is not installed: pip install 'ncp-driver[fleet]' "
                "(or leave --ray out to use the local process pool)"
            ) from None
    gate = Gate(
        max_mae_regression=args.max_mae_regression,
        max_rmse_regression=args.max_rmse_regression,
        max_corr_drop=args.max_corr_drop,
        max_drive_mae_regression=args.max_drive_mae_regression,
        max_p99_diff=args.max_p99_diff,
        max_diff_share=args.max_diff_share,
        max_mae=args.max_mae,
        diff_threshold=args.diff_threshold,
        gate_mode=args.gate_mode,
        strict=args.strict,
    )
    return EvalOptions(
        candidate=args.candidate,
        reference=args.reference,
        settings=settings,
        outputs=Outputs(table_format=args.format, mcap=args.mcap),
        gate=gate,
        jobs=args.jobs,
        timeout_s=args.timeout,
        ray=args.ray,
        ray_cpus=args.ray_cpus,
        cache_dir=args.cache,
        refresh=args.refresh,
        worst=args.worst,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``ncp-eval``; the exit status follows :mod:`ncp_driver.exitcodes` and the verdict."""
    args = build_parser().parse_args(argv)
    return run_command(
        "ncp-eval",
        lambda: _evaluate(args),
        json_output=args.json,
        interrupted="finished drives stay in the cache",
    )


def _evaluate(args: argparse.Namespace) -> int:
    options = _options(args)
    drives = find_drives(args.drives)
    if args.out.exists() and not args.out.is_dir():
        raise FleetError(f"--out {args.out} is a file: give a folder")
    show = sys.stderr.isatty() if args.progress is None else args.progress
    progress = _Progress(len(drives), show)
    try:
        result = evaluate_fleet(drives, options, args.out, on_done=progress)
    finally:
        progress.close()
    if args.sim_roads is not None:
        from ncp_driver.fleet.sim import closed_loop

        models = {"candidate": options.candidate}
        if options.reference is not None:
            models["reference"] = options.reference
        result.summary["closed_loop"] = closed_loop(
            models, args.sim_roads, args.sim_seed, args.out, args.sim_road_m, tuple(args.param)
        )
        if "skipped" in result.summary["closed_loop"]:
            print(f"ncp-eval: {result.summary['closed_loop']['skipped']}", file=sys.stderr)
    write_fleet(result, args.out, thumbnails=not args.no_thumbnails)
    summary = result.summary
    if args.json:
        sys.stdout.write(FleetSummary.read(args.out / FleetSummary.FILE).dumps())
    else:
        print(_text(summary, args.out))
    return result.exit_code


def _fmt(value: Any, spec: str = ".4g") -> str:
    return "-" if value is None else format(value, spec)


def _text(summary: dict[str, Any], out: Path) -> str:
    v = summary["verdict"]
    overall = summary["overall"]
    mode = summary["gate"]["gate_mode"]
    lines = [f"{v['drives_evaluated']} drive(s) evaluated, {v['drives_failed']} failed"]
    for role in summary["models"]:
        m = overall[role][mode] if overall.get(role) else None
        if m is not None:
            lines.append(
                f"{role:>10}: MAE {_fmt(m['mae'])} 1/m, RMSE {_fmt(m['rmse'])}, corr "
                f"{_fmt(m['corr'], '.3f')} ({mode}, {m['frames']} frames)"
            )
    diff = overall.get("difference")
    if diff:
        lines.append(
            f"|cand - ref|: median {_fmt(diff['median'])}, p99 {_fmt(diff['p99'])}, "
            f"max {_fmt(diff['max'])} 1/m"
        )
    for worst in summary["worst_divergences"][:3]:
        lines.append(
            f"  worst: {worst['drive']} {worst['start_s']:.1f}-{worst['end_s']:.1f} s "
            f"(peak {worst['peak_difference']:.4g} 1/m at {worst['peak_s']:.2f} s)"
        )
    for failure in summary["failures"]:
        lines.append(f"  failed: {failure['name']}: {failure['reason']}")
    lines.extend(f"  {r}" for r in v["reasons"])
    lines.append(f"verdict: {v['result']} (exit {v['exit_code']}); wrote {out}/report.html")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

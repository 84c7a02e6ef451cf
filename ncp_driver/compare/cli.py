"""``ncp-compare``: every model side by side, passive, active, attention, smoothness, size."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ncp_driver.compare.errors import CompareSettingsError
from ncp_driver.compare.run import COMPARE_HTML, Request, compare
from ncp_driver.compare.settings import DEFAULT_DRIVE_SEED, PAPER_LEVELS, CompareSettings
from ncp_driver.exitcodes import EPILOG, run_command
from ncp_driver.models import MODELS_DIR
from ncp_driver.replay.cli import add_param_option, parse_params
from ncp_driver.schemas import Compare
from ncp_driver.sim import SimSettings
from ncp_driver.sim.cli import add_camera_options, add_road_options, parse_compute_delay
from ncp_driver.sim.errors import SimSettingsError

__all__ = ["build_parser", "default_models", "main"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ncp-compare",
        description=(
            "The paper's comparison: every model side by side on held-out synthetic drives "
            "(open-loop MAE and correlation, grouped k-fold by drive), in ncp-sim's closed loop "
            "(takeovers per km at each noise level, with the expert), saliency SSIM under "
            "noise, the Lipschitz figure of the recurrent dynamics, and size and latency. "
            "Writes compare.json and compare.html (with the plots) into OUT."
        ),
        epilog=EPILOG,
    )
    p.add_argument(
        "--model",
        type=Path,
        action="append",
        default=[],
        help="exported .onnx (repeatable; default: every models/*.onnx that has a card)",
    )
    p.add_argument("--out", type=Path, required=True, help="new output directory")
    p.add_argument("--force", action="store_true", help="replace an existing --out")
    passive = p.add_argument_group("passive test (held-out drives)")
    passive.add_argument(
        "--drives",
        type=Path,
        nargs="+",
        default=[],
        metavar="PATH",
        help="HDF5 drives in the paper's layout (files or folders; default: generated with "
        "ncp-synth's library from seeds no training used)",
    )
    passive.add_argument("--folds", type=int, default=2, help="groups of drives (default 2)")
    passive.add_argument(
        "--drives-per-fold", type=int, default=2, help="generated drives per fold (default 2)"
    )
    passive.add_argument(
        "--drive-seed",
        type=int,
        default=DEFAULT_DRIVE_SEED,
        help=f"generated drives SEED, SEED+1, ... (default {DEFAULT_DRIVE_SEED})",
    )
    passive.add_argument(
        "--drive-s", type=float, default=30.0, help="length of a generated drive, s (default 30)"
    )
    active = p.add_argument_group("active test (ncp-sim)")
    add_road_options(active, noise_std=PAPER_LEVELS, road_m=500.0)
    active.add_argument("--no-expert", action="store_true", help="leave out the expert row")
    active.add_argument(
        "--sim",
        type=Path,
        default=None,
        metavar="DIR",
        help="read an existing ncp-sim output (its active.json) instead of driving",
    )
    sizes = p.add_argument_group("attention, smoothness, latency")
    sizes.add_argument("--saliency-frames", type=int, default=30)
    sizes.add_argument("--lipschitz-frames", type=int, default=100)
    sizes.add_argument(
        "--latency-runs",
        type=int,
        default=200,
        help="frames timed per model (median and p90, as the model cards; default 200)",
    )
    add_camera_options(p)
    add_param_option(p)
    p.add_argument("--json", action="store_true", help="print compare.json to stdout")
    prog = p.add_mutually_exclusive_group()
    prog.add_argument("--progress", dest="progress", action="store_true", default=None)
    prog.add_argument("--no-progress", dest="progress", action="store_false")
    return p  # fmt: skip


def cards_without_model(directory: Path = MODELS_DIR) -> list[Path]:
    """Cards in ``directory`` whose ``.onnx`` is not there (a large model committed as its card
    and rebuild command only): the default comparison leaves them out, and says so."""
    cards = sorted(directory.glob("*.card.json"))
    return [
        c for c in cards if not c.with_name(c.name.removesuffix(".card.json") + ".onnx").is_file()
    ]


def default_models(directory: Path = MODELS_DIR) -> list[Path]:
    """Every ``*.onnx`` in ``directory`` that has a model card beside it."""
    found = sorted(p for p in directory.glob("*.onnx") if p.with_suffix(".card.json").is_file())
    if not found:
        raise CompareSettingsError(
            f"no model with a card in {directory}: pass --model PATH (repeatable)"
        )
    return found


def _settings(args: argparse.Namespace) -> CompareSettings:
    height, width = args.size
    try:
        sim = SimSettings(
            roads=args.roads,
            seed=args.seed,
            road_m=args.road_m,
            height=height,
            width=width,
            render_scale=args.render_scale,
            compute_s=parse_compute_delay(args.compute_delay),
            noise_levels=tuple(args.noise_std),
            noise_seed=args.noise_seed,
        )
    except SimSettingsError as exc:
        raise CompareSettingsError(str(exc)) from exc
    return CompareSettings(
        sim=sim,
        folds=args.folds,
        drives_per_fold=args.drives_per_fold,
        drive_seed=args.drive_seed,
        drive_s=args.drive_s,
        saliency_frames=args.saliency_frames,
        lipschitz_frames=args.lipschitz_frames,
        latency_runs=args.latency_runs,
        noise_seed=args.noise_seed,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``ncp-compare``; the exit status follows :mod:`ncp_driver.exitcodes`."""
    args = build_parser().parse_args(argv)
    return run_command("ncp-compare", lambda: _run(args), json_output=args.json)


def _run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.jobs < 1:
        raise CompareSettingsError(f"--jobs {args.jobs} must be >= 1")
    if not args.model:
        for card in cards_without_model():
            print(
                f"ncp-compare: {card} has no .onnx beside it (rebuild it with the card's "
                "command): left out",
                file=sys.stderr,
            )
    request = Request(
        models=list(args.model) or default_models(),
        out=args.out,
        settings=settings,
        drives=list(args.drives),
        sim=args.sim,
        expert=not args.no_expert,
        jobs=args.jobs,
        force=args.force,
        pipeline=parse_params(args.param),
        progress=sys.stderr.isatty() if args.progress is None else args.progress,
    )
    doc, status = compare(request, log=lambda text: print(text, file=sys.stderr, flush=True))
    if args.json:
        sys.stdout.write(doc.dumps())
    else:
        print(summary(doc, args.out / COMPARE_HTML))
    return status


def summary(doc: Compare, page: Path) -> str:
    """The result in a few lines: the ranking, what failed, where the page is."""
    lines = [f"{len(doc.models)} model(s) compared:"]
    lines += [f"  {s.text}" for s in doc.ranking]
    lines += [f"  FAILED {e}" for e in doc.errors]
    lines.append(f"wrote {page}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""``ncp-train``: train a steering network on drive files (see docs/training.md).

Examples::

    ncp-train --train drives/train --val drives/val --kind ncp --out runs
    ncp-train --protocol passive --data drives/ --fold 3 --kind lstm
    ncp-train --resume runs/ncp-20240101-120000 --epochs 300
    torchrun --nproc_per_node=4 -m ncp_driver.training.cli --train drives/train --val drives/val
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ncp_driver.contract import MODEL_KINDS
from ncp_driver.exitcodes import EPILOG, run_command
from ncp_driver.training.protocols import PROTOCOLS
from ncp_driver.training.train import TrainConfig, train

__all__ = ["build_parser", "config_from_args", "main"]


def build_parser() -> argparse.ArgumentParser:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(
        prog="ncp-train",
        epilog=EPILOG,
        description="Train a steering network (NCP, CfC, LSTM, GRU, CT-RNN or CNN) on drive "
        "files in the paper's HDF5 layout. Each run writes into its own directory.",
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default=defaults.protocol,
        help="active: --train and --val drives; passive: 10-fold split of --data",
    )
    data.add_argument(
        "--train",
        nargs="+",
        default=[],
        metavar="PATH",
        help="active: training drive files or directories",
    )
    data.add_argument(
        "--val",
        nargs="+",
        default=[],
        metavar="PATH",
        help="active: validation drive files or directories",
    )
    data.add_argument(
        "--data",
        nargs="+",
        default=[],
        metavar="PATH",
        help="passive: all drive files or directories",
    )
    data.add_argument("--fold", type=int, default=defaults.fold, help="passive: test fold 0..9")
    data.add_argument("--folds", type=int, default=defaults.folds, help="passive: fold count")
    data.add_argument(
        "--val-fraction",
        type=float,
        default=defaults.val_fraction,
        help="passive: share of each training file validated at each end",
    )
    data.add_argument("--seq-len", type=int, default=defaults.seq_len, help="frames per sequence")
    data.add_argument(
        "--stride",
        type=int,
        default=None,
        help="frames between sequence starts (default: --seq-len)",
    )
    data.add_argument(
        "--max-gap",
        type=float,
        default=defaults.max_gap_s,
        dest="max_gap_s",
        help="reject a sequence with a stamp gap of this many seconds or more",
    )

    model = parser.add_argument_group("model and optimiser")
    model.add_argument("--kind", choices=MODEL_KINDS, default=defaults.kind)
    model.add_argument(
        "--seed",
        type=int,
        default=defaults.seed,
        help="wiring, initial weights, data order and augmentation",
    )
    model.add_argument(
        "--epochs", type=int, default=None, help="total epochs (default: active 200, passive 50)"
    )
    model.add_argument(
        "--batch-size",
        type=int,
        default=defaults.batch_size,
        help="sequences per optimiser step (global under torchrun)",
    )
    model.add_argument("--lr", type=float, default=defaults.lr)
    model.add_argument("--clip-norm", type=float, default=defaults.clip_norm)
    model.add_argument(
        "--readout-init",
        choices=("paper", "labels"),
        default=defaults.readout_init,
        help="paper: output map w=1, b=0; labels: bias from the training labels' mean, gain "
        "from their spread (a single bounded motor neuron: 1.25 x the 99.9th-percentile "
        "deviation; a linear readout: the std); a faster start, not in the paper",
    )
    model.add_argument(
        "--curve-factor",
        type=float,
        default=None,
        help="loss weight exp(|y| * f), y = inverse_r x 1000 (default: active 0.0, passive 0.1)",
    )
    model.add_argument(
        "--shadow-gamma",
        type=float,
        default=defaults.shadow_gamma,
        help="shadow augmentation strength; 0 turns it off",
    )

    run = parser.add_argument_group("run")
    run.add_argument("--out", default=defaults.out, help="parent directory of the run directories")
    run.add_argument(
        "--resume",
        metavar="RUN_DIR",
        default=None,
        help="continue a run from its last checkpoint (its config.json is reused; "
        "--epochs, --device, --workers may be changed)",
    )
    run.add_argument("--device", default=defaults.device, help="auto, cpu, cuda or cuda:N")
    run.add_argument(
        "--workers", type=int, default=defaults.workers, help="data loader worker processes"
    )
    run.add_argument(
        "--max-batches", type=int, default=None, help="cap training batches per epoch (smoke runs)"
    )
    bar = run.add_mutually_exclusive_group()
    bar.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="always show the progress bar",
    )
    bar.add_argument(
        "--no-progress", dest="progress", action="store_false", help="never show the progress bar"
    )
    return parser


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(
        kind=args.kind,
        protocol=args.protocol,
        train=list(args.train),
        val=list(args.val),
        data=list(args.data),
        fold=args.fold,
        folds=args.folds,
        out=args.out,
        resume=args.resume,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seq_len=args.seq_len,
        stride=args.stride,
        lr=args.lr,
        clip_norm=args.clip_norm,
        readout_init=args.readout_init,
        curve_factor=args.curve_factor,
        shadow_gamma=args.shadow_gamma,
        max_gap_s=args.max_gap_s,
        val_fraction=args.val_fraction,
        seed=args.seed,
        device=args.device,
        workers=args.workers,
        max_batches=args.max_batches,
        progress=args.progress,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``ncp-train``; the exit status follows :mod:`ncp_driver.exitcodes` (a diverged run is a
    problem the work found: 1, the last good checkpoint kept)."""
    args = build_parser().parse_args(argv)

    def work() -> None:
        run = train(config_from_args(args))
        if os.environ.get("RANK", "0") == "0":
            print(f"run directory: {run}")

    return run_command("ncp-train", work)


if __name__ == "__main__":
    sys.exit(main())

"""``ncp-export``: a training checkpoint to one checked, self-describing ONNX file.

Examples::

    ncp-export runs/ncp-20240101-120000                  # last.pt -> <run>/<run>-epoch-XXXX.onnx
    ncp-export runs/ncp-20240101-120000/checkpoints/epoch-0042.pt -o models/ncp.onnx
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ncp_driver.errors import UsageError
from ncp_driver.exitcodes import EPILOG, run_command
from ncp_driver.export.onnx_export import (
    DEFAULT_AUDIT_TOLERANCE,
    DEFAULT_OPSET,
    DEFAULT_TOLERANCE,
    EXPORTERS,
    export_onnx,
)
from ncp_driver.preprocessing import PAPER_PREPROCESSING, Preprocessing
from ncp_driver.training.runs import load_checkpoint, model_from_checkpoint

__all__ = ["build_parser", "default_output", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ncp-export",
        epilog=EPILOG,
        description="Export a training checkpoint to a single ONNX file (one camera frame per "
        "call, state in and out, metadata inside), check it with the ONNX checker and run it "
        "with onnxruntime against torch over a 200-frame sequence.",
    )
    parser.add_argument("checkpoint", help="a checkpoint .pt file, or a run directory (last.pt)")
    parser.add_argument(
        "-o", "--output", default=None, help="the ONNX file (default: <run>/<run>-epoch-XXXX.onnx)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing output file")
    parser.add_argument(
        "--no-check",
        dest="check",
        action="store_false",
        help="skip the checker and the onnxruntime-vs-torch parity run",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=DEFAULT_TOLERANCE,
        help="largest allowed onnxruntime-vs-torch difference of the curvature, 1/m",
    )
    parser.add_argument(
        "--audit-tolerance",
        type=float,
        default=DEFAULT_AUDIT_TOLERANCE,
        help="largest allowed scaled difference of the state, neurons and features",
    )
    parser.add_argument("--frames", type=int, default=200, help="frames in the parity sequence")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET)
    parser.add_argument(
        "--exporter",
        choices=EXPORTERS,
        default="dynamo",
        help="torch.onnx exporter (dynamo: torch.export based, the default)",
    )
    return parser


def default_output(checkpoint_path: Path, epoch: int) -> Path:
    """``<run>/<run>-epoch-XXXX.onnx`` for a checkpoint inside ``<run>/checkpoints/``."""
    run = checkpoint_path.parent.parent
    return run / f"{run.name}-epoch-{epoch:04d}.onnx"


def main(argv: Sequence[str] | None = None) -> int:
    """``ncp-export``; the exit status follows :mod:`ncp_driver.exitcodes`."""
    args = build_parser().parse_args(argv)
    return run_command("ncp-export", lambda: _export(args))


def _export(args: argparse.Namespace) -> None:
    checkpoint = load_checkpoint(args.checkpoint)
    model = model_from_checkpoint(checkpoint)
    epoch = int(checkpoint["epoch"])
    output = Path(args.output) if args.output else default_output(Path(checkpoint["path"]), epoch)
    if output.exists() and not args.force:
        raise UsageError(f"{output} exists; pass --force to overwrite it")
    preprocessing = (
        Preprocessing.from_dict(checkpoint["preprocessing"])
        if "preprocessing" in checkpoint
        else PAPER_PREPROCESSING
    )
    training_data = dict(checkpoint.get("training_data") or {})
    training_data.update(
        checkpoint=Path(checkpoint["path"]).name,
        run=Path(checkpoint["path"]).parent.parent.name,
        epoch=epoch,
    )
    report = export_onnx(
        model,
        output,
        training_data=training_data,
        check=args.check,
        preprocessing=preprocessing,
        opset=args.opset,
        tolerance=args.tolerance,
        audit_tolerance=args.audit_tolerance,
        parity_frames=args.frames,
        exporter=args.exporter,
    )
    print(report.summary())


if __name__ == "__main__":
    sys.exit(main())

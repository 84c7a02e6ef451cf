#!/usr/bin/env python3
"""VisualBackProp saliency from the ONNX model, and its SSIM under input noise.

    python analysis/saliency.py MODEL DRIVE.h5 --out DIR [--frames 32] [--levels 0.1,0.2,0.25,0.3]
        [--takeovers 0.1=2,0.2=5]

DRIVE.h5 is a drive file in the paper's HDF5 layout; extract one from a bag with
``ncp-bag extract`` first.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ncp_driver.audit.analyses import saliency_analysis
from ncp_driver.audit.frames import read_drive_frames
from ncp_driver.errors import NcpDriverError
from ncp_driver.exitcodes import EPILOG, exit_code
from ncp_driver.replay.noise import PAPER_NOISE_LEVELS, PAPER_NOISE_SEED
from ncp_driver.replay.subgraphs import load_model, read_contract


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=EPILOG)
    parser.add_argument("model", type=Path, help="exported ONNX model")
    parser.add_argument("drive", type=Path, help="drive file (HDF5, paper layout)")
    parser.add_argument("--out", type=Path, required=True, help="folder for PNGs, JSON, masks")
    parser.add_argument("--frames", type=int, default=32, help="frames, spread over the drive")
    parser.add_argument("--start", type=int, default=0, help="first frame index")
    parser.add_argument("--stop", type=int, help="end frame index (exclusive)")
    parser.add_argument(
        "--levels",
        default=",".join(str(v) for v in PAPER_NOISE_LEVELS),
        help="noise standard deviations on the [0, 1] image",
    )
    parser.add_argument("--seed", type=int, default=PAPER_NOISE_SEED)
    parser.add_argument("--takeovers", help="takeovers per noise level from the car, 0.1=2,...")
    args = parser.parse_args(argv)
    if args.drive.suffix.lower() not in (".h5", ".hdf5"):
        print(
            f"error: {args.drive} is not an HDF5 drive file: run `ncp-bag extract` on the bag "
            "first",
            file=sys.stderr,
        )
        return 2
    try:
        levels = [float(v) for v in args.levels.split(",")]
        takeovers = None
        if args.takeovers:
            pairs = (item.split("=") for item in args.takeovers.split(","))
            takeovers = {float(level): int(count) for level, count in pairs}
        spec = read_contract(load_model(args.model), source=str(args.model)).preprocessing
        stamps, images = read_drive_frames(args.drive, spec, args.frames, args.start, args.stop)
        result = saliency_analysis(
            args.model, images, stamps, levels, seed=args.seed, takeovers=takeovers
        )
        for path in result.write(args.out):
            print(path)
        for level, value in zip(levels, result.summary["ssim_mean"], strict=True):
            print(f"noise {level:g}: mean SSIM {value:.3f}")
    except (NcpDriverError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_code(exc)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Smoothness: sorted local Lipschitz constants of the state update along a replay.

python analysis/lipschitz.py REPLAY_DIR --out DIR [--model MODEL] [--max-frames 500]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ncp_driver.audit import load_replay
from ncp_driver.audit.analyses import lipschitz_analysis
from ncp_driver.errors import NcpDriverError
from ncp_driver.exitcodes import EPILOG, exit_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=EPILOG)
    parser.add_argument("replay", type=Path, help="replay directory (with sensory.csv)")
    parser.add_argument("--out", type=Path, required=True, help="folder for PNGs and JSON")
    parser.add_argument("--model", type=Path, help="model (default: the one in metrics.json)")
    parser.add_argument("--every", type=int, default=1, help="analyse every n-th frame")
    parser.add_argument("--max-frames", type=int, default=500, help="at most this many frames")
    parser.add_argument("--eps", type=float, default=1e-3, help="finite-difference step")
    args = parser.parse_args(argv)
    try:
        result = lipschitz_analysis(
            load_replay(args.replay), args.model, args.every, args.max_frames, args.eps
        )
        for path in result.write(args.out):
            print(path)
        print(f"max ||dh'/dh||_2 = {result.summary['max_spectral_norm']:.4g}")
    except NcpDriverError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_code(exc)
    return 0


if __name__ == "__main__":
    sys.exit(main())

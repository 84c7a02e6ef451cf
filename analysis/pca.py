#!/usr/bin/env python3
"""PCA of the hidden activity: variance explained, PC1/PC2 over time and on the road.

python analysis/pca.py REPLAY_DIR --out DIR
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ncp_driver.audit import load_replay
from ncp_driver.audit.analyses import pca_analysis
from ncp_driver.errors import NcpDriverError
from ncp_driver.exitcodes import EPILOG, exit_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=EPILOG)
    parser.add_argument("replay", type=Path, help="replay directory (with neurons.csv)")
    parser.add_argument("--out", type=Path, required=True, help="folder for PNGs and JSON")
    args = parser.parse_args(argv)
    try:
        for path in pca_analysis(load_replay(args.replay)).write(args.out):
            print(path)
    except NcpDriverError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_code(exc)
    return 0


if __name__ == "__main__":
    sys.exit(main())

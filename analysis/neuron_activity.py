#!/usr/bin/env python3
"""Neuron activity over time and on the GPS road trace (the paper's neuron-activity figures).

python analysis/neuron_activity.py REPLAY_DIR --out DIR [--model MODEL] [--neurons 0,3,5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ncp_driver.audit import load_replay
from ncp_driver.audit.analyses import neuron_activity_analysis
from ncp_driver.errors import NcpDriverError
from ncp_driver.exitcodes import EPILOG, exit_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=EPILOG)
    parser.add_argument("replay", type=Path, help="replay directory (output.csv, neurons.csv, ...)")
    parser.add_argument("--out", type=Path, required=True, help="folder for PNGs and JSON")
    parser.add_argument("--model", type=Path, help="model (default: the one in metrics.json)")
    parser.add_argument("--neurons", help="comma-separated neuron columns to draw on the road")
    args = parser.parse_args(argv)
    try:
        neurons = [int(n) for n in args.neurons.split(",")] if args.neurons else None
        result = neuron_activity_analysis(load_replay(args.replay), args.model, neurons)
        for path in result.write(args.out):
            print(path)
    except (NcpDriverError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_code(exc)
    return 0


if __name__ == "__main__":
    sys.exit(main())

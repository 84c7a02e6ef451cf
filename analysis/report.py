#!/usr/bin/env python3
"""The HTML report of a replay, with every analysis the replay and model allow.

    python analysis/report.py REPLAY_DIR --out report.html [--model MODEL] [--drive DRIVE.h5]
        [--title TEXT] [--max-frames 300] [--sim SIM_DIR]

Analyses that cannot run (no neurons.csv, no LTC parameters, a non-recurrent model, no drive
file for saliency) are listed in the report's "Analyses not run" section. ``--sim`` adds the
closed-loop section from an ``ncp-sim --out`` directory.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ncp_driver.audit import load_replay
from ncp_driver.audit.frames import read_drive_frames
from ncp_driver.errors import NcpDriverError
from ncp_driver.exitcodes import EPILOG, exit_code
from ncp_driver.replay.subgraphs import load_model, read_contract
from ncp_driver.report.audit import write_audit_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=EPILOG)
    parser.add_argument("replay", type=Path, help="replay directory")
    parser.add_argument("--out", type=Path, required=True, help="the HTML file to write")
    parser.add_argument("--model", type=Path, help="model (default: the one in metrics.json)")
    parser.add_argument("--drive", type=Path, help="drive file (HDF5) for saliency")
    parser.add_argument("--title", default="NCP drive audit")
    parser.add_argument("--max-frames", type=int, default=300, help="frames for Lipschitz")
    parser.add_argument("--saliency-frames", type=int, default=16)
    parser.add_argument("--sim", type=Path, help="an ncp-sim --out directory: closed-loop section")
    args = parser.parse_args(argv)
    try:
        replay = load_replay(args.replay)
        model = args.model or replay.model_path
        frames = None
        if args.drive is not None and model is not None:
            spec = read_contract(load_model(model), source=str(model)).preprocessing
            frames = read_drive_frames(args.drive, spec, args.saliency_frames)
        page = write_audit_report(
            args.replay,
            args.out,
            model=model,
            saliency_frames=frames,
            title=args.title,
            max_frames=args.max_frames,
            replay=replay,
            no_saliency_reason="no --drive file given",
            sim_dir=args.sim,
        )
        print(page)
    except NcpDriverError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_code(exc)
    return 0


if __name__ == "__main__":
    sys.exit(main())

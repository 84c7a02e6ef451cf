"""``python -m ncp_driver.modelcard write|verify|closed-loop|internals|latency|page``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ncp_driver.exitcodes import EPILOG, PROBLEM, USAGE, run_command
from ncp_driver.modelcard.tolerance import RTOL

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ncp_driver.modelcard",
        epilog=EPILOG,
        description="Make, verify and amend a model's card (models/README.md).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("verify", help="recompute a card's figures and compare")
    check.add_argument("card", type=Path)
    check.add_argument(
        "--held-out",
        action="store_true",
        help="also drive the held-out road set (long: tens of km per noise level)",
    )
    make = sub.add_parser("write", help="make a card after training (see models/README.md)")
    make.add_argument("--checkpoint", type=Path, required=True, help="the checkpoint exported")
    make.add_argument("--model", type=Path, required=True, help="the exported .onnx file")
    make.add_argument(
        "--spec", type=Path, required=True, help="JSON: data commands, training command, ..."
    )
    make.add_argument(
        "--held-out", action="store_true", help="also compute the held-out closed loop (long)"
    )
    loop = sub.add_parser(
        "closed-loop",
        help="(re)compute a card's closed-loop figures from its spec and rewrite the card",
    )
    loop.add_argument("card", type=Path)
    loop.add_argument("--spec", type=Path, required=True, help="JSON with a closed_loop entry")
    loop.add_argument(
        "--held-out",
        action="store_true",
        help="the spec's closed_loop_held_out roads instead of the short verified set",
    )
    inner = sub.add_parser(
        "internals", help="(re)compute the internals on the replay drive into the card"
    )
    inner.add_argument("card", type=Path)
    timing = sub.add_parser(
        "latency", help="measure the latency per frame again (e.g. on a quiet machine)"
    )
    timing.add_argument("card", type=Path)
    timing.add_argument("--runs", type=int, default=200, help="timed frames (default 200)")
    page = sub.add_parser("page", help="rewrite the card's Markdown page from its JSON")
    page.add_argument("card", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The exit status follows :mod:`ncp_driver.exitcodes` (1: the card does not reproduce)."""
    from ncp_driver.modelcard import card

    args = build_parser().parse_args(argv)

    def say(text: str) -> None:
        print(text, flush=True)

    def work() -> int | None:
        if args.command == "verify":
            problems = card.verify(args.card, log=say, held_out=args.held_out)
            if problems:
                print("the card does NOT reproduce:\n  " + "\n  ".join(problems))
                return PROBLEM  # a failed verification
            print(f"{args.card}: every figure reproduces (within {RTOL:.0%})")
            stated = json.loads(args.card.read_text()).get(card.HELD_OUT)
            if stated and not args.held_out:
                print(
                    "the held-out closed-loop figures the card states were NOT recomputed: "
                    "add --held-out to drive those roads too"
                )
            return None
        if args.command == "internals":
            doc = card.update_internals(args.card)
            print(json.dumps(doc["replay"]["internals"], indent=2))
            return None
        if args.command == "latency":
            doc = card.update_latency(args.card, args.runs)
            print(json.dumps(doc["latency"], indent=2))
            return None
        if args.command == "page":
            print(card.render(args.card))
            return None
        spec = json.loads(args.spec.read_text())
        if args.command == "closed-loop":
            doc = card.update_closed_loop(args.card, spec, args.held_out)
            key = card.HELD_OUT if args.held_out else card.VERIFIED_LOOP
            print(json.dumps(doc[key]["figures"], indent=2))
            return None
        doc = card.write(
            args.checkpoint,
            args.model,
            args.model.with_suffix(".card.json"),
            spec,
            log=say,
            held_out=args.held_out,
        )
        print(
            json.dumps(
                {"validation": doc["validation"], "replay": doc["replay"]["metrics"]}, indent=2
            )
        )
        return None

    try:
        return run_command("modelcard", work)
    except (OSError, KeyError, json.JSONDecodeError) as exc:  # a card or spec file missing or bad
        print(f"modelcard: error: {exc}", file=sys.stderr)
        return USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

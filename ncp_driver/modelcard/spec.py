"""What a card's spec states: the data commands, the training command, the departures.

A spec (``models/<name>.spec.json``) is written by hand before training; ``write`` checks it
against the checkpoint and the exported file and copies it, completed, into the card:

- ``training.data.train`` / ``training.data.val``: an ``ncp-synth`` command with ``SEED`` where
  each drive's seed goes, and the ``seeds``. The card adds what the command implies (the
  recovery views per drive, the files, the duration), parsed by ``ncp-synth``'s own parser;
  ``verify`` regenerates the validation drives by running the very command.
- ``training.data.dagger`` (optional): on-policy drives, an ``ncp-sim --dagger`` command and the
  ``model_sha256`` of the model that drove (``ncp_driver.sim.dagger``); parsed by ncp-sim's
  parser, which gives the roads, noise levels and file count.
- ``training.command``: the ``ncp-train`` command, with ``{epochs}``, ``{lr}`` (any field of
  the checkpoint's config) filled in from the checkpoint, never hard-coded.
- ``training.departures``: each way the run departs from the paper's recipe, ``field`` (the
  config field, or ``"data"``), ``what`` and ``why``; ``write`` refuses a run whose config
  differs from the paper's in a field the list does not explain.

An older card's data block (``command``, ``train_seeds``, ``val_seeds``, ``duration_s``) still
verifies: its validation drives are ``ncp_driver.synth``'s defaults for the seed and duration.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ncp_driver.errors import CardSpecError

__all__ = [
    "RECIPE_FIELDS",
    "SEED_PLACEHOLDER",
    "describe_data",
    "fill",
    "render_departures",
    "synth_arguments",
    "synth_drive",
    "training_files",
    "unexplained_departures",
]

SEED_PLACEHOLDER = "SEED"
SYNTH = "ncp-synth"
SIM = "ncp-sim"
# The training settings that make the paper's recipe (TrainConfig's defaults, active protocol);
# paths, devices and workers do not.
RECIPE_FIELDS = (
    "protocol",
    "epochs",
    "batch_size",
    "seq_len",
    "stride",
    "lr",
    "clip_norm",
    "curve_factor",
    "shadow_gamma",
    "readout_init",
    "max_gap_s",
    "seed",
    "max_batches",
)


def synth_arguments(command: str, seed: int, out: Path | None = None) -> argparse.Namespace:
    """``command`` (``ncp-synth ... SEED ...``) for one seed, parsed by ncp-synth's parser;
    ``out`` replaces its ``--out``."""
    from ncp_driver.synth.cli import build_parser

    tokens = shlex.split(command)
    if not tokens or tokens[0] != SYNTH:
        raise CardSpecError(f"data command {command!r} must start with {SYNTH}")
    if not any(SEED_PLACEHOLDER in token for token in tokens[1:]):
        raise CardSpecError(
            f"data command {command!r} has no {SEED_PLACEHOLDER} where each drive's seed goes"
        )
    argv = [token.replace(SEED_PLACEHOLDER, str(seed)) for token in tokens[1:]]
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:  # argparse has printed why
        raise CardSpecError(f"{SYNTH} refuses the data command {command!r}") from None
    if out is not None:
        args.out = Path(out)
    args.no_progress = True
    args.json = False
    return args


def synth_drive(command: str, seed: int, out: Path) -> list[Path]:
    """Run ``command`` for ``seed`` into ``out``: the drive file, then its recovery views."""
    from ncp_driver.synth.cli import generate

    summary = generate(synth_arguments(command, seed, out))
    return [Path(summary["out"]), *(Path(view["out"]) for view in summary["recovery"])]


def _describe(block: Mapping[str, Any], role: str) -> dict[str, Any]:
    from ncp_driver.synth.recovery import recovery_views

    try:
        command, seeds = str(block["command"]), [int(s) for s in block["seeds"]]
    except (KeyError, TypeError, ValueError):
        raise CardSpecError(
            f"training.data.{role} must give a 'command' and a list of 'seeds'"
        ) from None
    if not seeds:
        raise CardSpecError(f"training.data.{role} lists no seeds")
    args = synth_arguments(command, seeds[0])
    if args.format != "h5":
        raise CardSpecError(f"training.data.{role}: {command!r} does not write --format h5")
    views = len(recovery_views(args.recovery_offsets, args.recovery_yaw))
    stated = block.get("views_per_drive")
    if stated is not None and int(stated) != views:
        raise CardSpecError(
            f"training.data.{role} states {stated} recovery views per drive; its command "
            f"writes {views}"
        )
    return {
        "command": command,
        "seeds": seeds,
        "duration_s": float(args.duration),
        "camera_hz": float(args.camera_hz),
        "size": list(args.size),
        "preprocessed": bool(args.preprocessed),
        "takeovers": args.takeovers,
        "recovery_offsets_m": list(args.recovery_offsets),
        "recovery_yaw_deg": list(args.recovery_yaw),
        "views_per_drive": views,
        "files": len(seeds) * (1 + views),
    }


def _describe_dagger(block: Mapping[str, Any]) -> dict[str, Any]:
    """An on-policy block: the ``ncp-sim --dagger`` command and the model that drove."""
    from ncp_driver.sim.cli import build_parser

    command, sha256 = str(block.get("command", "")), str(block.get("model_sha256", ""))
    tokens = shlex.split(command)
    if not tokens or tokens[0] != SIM:
        raise CardSpecError(f"training.data.dagger: {command!r} must start with {SIM}")
    try:
        args = build_parser().parse_args(tokens[1:])
    except SystemExit:  # argparse has printed why
        raise CardSpecError(f"{SIM} refuses the DAgger command {command!r}") from None
    if args.dagger is None or len(args.model) != 1:
        raise CardSpecError(
            f"training.data.dagger: {command!r} must name one --model and a --dagger folder"
        )
    if len(sha256) != 64:
        raise CardSpecError(
            "training.data.dagger must give 'model_sha256', the SHA-256 of the model that drove"
        )
    return {
        "command": command,
        "model": str(args.model[0]),
        "model_sha256": sha256,
        "model_note": str(block.get("model_note", "")),
        "road_seeds": list(range(args.seed, args.seed + args.roads)),
        "road_m": float(args.road_m),
        "noise_levels": [float(v) for v in args.noise_std],
        "files": args.roads * len(args.noise_std),
    }


def describe_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """The spec's data block completed with what its commands imply (checked by ncp-synth,
    and an optional on-policy ``dagger`` block by ncp-sim's parser)."""
    if "train" not in data or "val" not in data:
        raise CardSpecError(
            "training.data must give 'train' and 'val', each an ncp-synth command with "
            f"{SEED_PLACEHOLDER} and its seeds (models/README.md)"
        )
    out = {
        "generator": SYNTH,
        "train": _describe(data["train"], "train"),
        "val": _describe(data["val"], "val"),
    }
    if "dagger" in data:
        out["dagger"] = _describe_dagger(data["dagger"])
    return out


def training_files(data: Mapping[str, Any]) -> int:
    """How many drive files a completed data block trains on (drives, views, DAgger runs)."""
    return int(data["train"]["files"]) + int(data.get("dagger", {}).get("files", 0))


def fill(template: str, config: Mapping[str, Any], where: str) -> str:
    """``template`` with ``{field}`` / ``{field:format}`` taken from the checkpoint's config."""
    try:
        return template.format_map(config)
    except (KeyError, ValueError, IndexError) as exc:
        raise CardSpecError(
            f"{where}: {template!r} names {exc} which the checkpoint's config cannot fill "
            f"(its fields: {', '.join(sorted(config))})"
        ) from None


def render_departures(
    departures: Sequence[Mapping[str, Any]], config: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The spec's departures with the config's values filled into their text."""
    out = []
    for k, item in enumerate(departures):
        if "what" not in item or "why" not in item:
            raise CardSpecError(f"training.departures[{k}] must say 'what' and 'why'")
        out.append(
            {
                "field": item.get("field"),
                "what": fill(str(item["what"]), config, f"training.departures[{k}].what"),
                "why": fill(str(item["why"]), config, f"training.departures[{k}].why"),
            }
        )
    return out


def unexplained_departures(
    config: Mapping[str, Any],
    paper: Mapping[str, Any],
    departures: Sequence[Mapping[str, Any]],
) -> list[str]:
    """What ``write`` refuses: a config field that differs from the paper's recipe with no
    departure naming it, and a departure naming a field that does not differ."""
    differ = [name for name in RECIPE_FIELDS if config.get(name) != paper.get(name)]
    listed = {str(item["field"]) for item in departures if item.get("field")}
    problems = [
        f"the run's {name} is {config.get(name)!r} (the paper's recipe: {paper.get(name)!r}) "
        "and the spec's training.departures do not say why"
        for name in differ
        if name not in listed
    ]
    problems += [
        f"training.departures names {name}, but the run used the paper's {paper.get(name)!r}"
        for name in sorted(listed)
        if name in RECIPE_FIELDS and name not in differ
    ]
    return problems

"""Make a card (``write``), recompute and compare its figures (``verify``), amend one block."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ncp_driver.errors import CardError, CardSpecError
from ncp_driver.modelcard.figures import (
    closed_loop_figures,
    drive_identity,
    latency,
    machine,
    replay_figures,
    validation_drives,
    validation_error,
)
from ncp_driver.modelcard.internals import internals_problems, internals_rows
from ncp_driver.modelcard.page import WARNING, markdown
from ncp_driver.modelcard.spec import describe_data, fill, render_departures, training_files
from ncp_driver.modelcard.tolerance import (
    ATOL,
    CLOSED_LOOP_COUNT_TOLERANCE,
    CLOSED_LOOP_KM_RTOL,
    RTOL,
    close,
)

__all__ = [
    "HELD_OUT",
    "VERIFIED_LOOP",
    "CardFigures",
    "closed_loop_problems",
    "evaluate",
    "page_path",
    "update_closed_loop",
    "update_internals",
    "update_latency",
    "verify",
    "write",
]

VERIFIED_LOOP = "closed_loop"  # the short road set verify always recomputes
HELD_OUT = "closed_loop_held_out"  # the larger held-out set: only with --held-out


@dataclass(frozen=True)
class CardFigures:
    """The figures a card states and ``verify`` recomputes."""

    validation: dict[str, Any]
    replay: dict[str, dict[str, float | None]]
    closed_loop: list[dict[str, Any]] | None = None
    internals: dict[str, Any] | None = None
    closed_loop_held_out: list[dict[str, Any]] | None = None


def _quiet(text: str) -> None:
    pass


def page_path(card_path: Path) -> Path:
    """``models/<name>.card.json`` -> ``models/<name>.md``."""
    return Path(card_path).with_suffix("").with_suffix(".md")


# The card's blocks in this order (others after them), so that cards compare line by line.
_ORDER = (
    "model", "sha256", "size_bytes", "kind", "parameters", "network", "exporter", "warning",
    "notes", "training", "validation", "replay", "closed_loop", "closed_loop_held_out", "latency",
)  # fmt: skip


def _save(card_path: Path, doc: Mapping[str, Any]) -> None:
    from ncp_driver.bags.output import atomic_file, write_json

    ordered = {key: doc[key] for key in _ORDER if key in doc}
    ordered.update({key: value for key, value in doc.items() if key not in ordered})
    write_json(card_path, ordered, force=True)
    with atomic_file(page_path(card_path), force=True) as tmp:
        tmp.write_text(markdown(doc))


def _load(card_path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(Path(card_path).read_text())
    return doc


def evaluate(
    card_doc: Mapping[str, Any],
    model: Path,
    work: Path,
    log: Callable[[str], None] = _quiet,
    held_out: bool = False,
) -> CardFigures:
    """Recompute the card's figures for ``model`` from the seeds in ``card_doc``; ``log``
    hears each step as it starts. The held-out closed loop only with ``held_out``."""
    from ncp_driver.runtime.model import load_contract

    data = card_doc["training"]["data"]
    closed = card_doc.get(VERIFIED_LOOP)
    far = card_doc.get(HELD_OUT) if held_out else None
    steps = 3 + bool(closed) + bool(far)
    val = data["val"] if "val" in data else {"seeds": data["val_seeds"], **data}
    log(
        f"[1/{steps}] generating the {len(val['seeds'])} validation drives from their seeds "
        f"({float(val['duration_s']):g} s each)"
    )
    drives = validation_drives(data, work)
    training = card_doc["training"]
    log(f"[2/{steps}] validation error with onnxruntime (the training protocol's windows)")
    validation: dict[str, Any] = dict(
        validation_error(model, drives, int(training["seq_len"]), int(training["stride"]))
    )
    listed = load_contract(model).training_data.get("val")
    if "val" in data and isinstance(listed, list):
        validation["regenerated_drives"] = drive_identity(drives, listed)
    drive = card_doc["replay"]["drive"]
    log(
        f"[3/{steps}] replaying the {float(drive['duration_s']):g} s evaluation drive (seed "
        f"{drive['seed']}) through the on-car pipeline"
    )
    replayed, internals = replay_figures(model, drive, work)
    loop = None
    step = 3
    if closed:
        step += 1
        log(f"[{step}/{steps}] the closed loop: ncp-sim on the card's roads and noise levels")
        loop = closed_loop_figures(model, closed["settings"])
    far_loop = None
    if far:
        step += 1
        log(f"[{step}/{steps}] the held-out closed loop: ncp-sim on the held-out roads")
        far_loop = closed_loop_figures(model, far["settings"])
    return CardFigures(validation, replayed, loop, internals, far_loop)


def _row(name: str, got: float | None, stated: float | None, ok: bool | None = None) -> str:
    def num(value: float | None) -> str:
        return "-" if value is None else f"{value:.6g}"

    verdict = "ok" if (close(got, stated) if ok is None else ok) else "DIFFERS"
    return f"  {name:<28} {num(got):>12}  card {num(stated):>12}  {verdict}"


def closed_loop_problems(
    got: list[dict[str, Any]], stated: list[dict[str, Any]], name: str = "closed loop"
) -> list[str]:
    """Where recomputed closed-loop figures leave the tolerance of the card's."""
    problems = []
    by_level = {row["noise_std"]: row for row in got}
    for row in stated:
        mine = by_level.get(row["noise_std"])
        if mine is None:
            problems.append(f"{name} noise {row['noise_std']}: not recomputed")
            continue
        if abs(mine["takeovers"] - row["takeovers"]) > CLOSED_LOOP_COUNT_TOLERANCE:
            problems.append(
                f"{name} noise {row['noise_std']}: {mine['takeovers']} takeovers, the card "
                f"says {row['takeovers']} (tolerance {CLOSED_LOOP_COUNT_TOLERANCE})"
            )
        if not close(mine["autonomous_km"], row["autonomous_km"], CLOSED_LOOP_KM_RTOL, 0.0):
            problems.append(
                f"{name} noise {row['noise_std']}: {mine['autonomous_km']:.3f} km "
                f"autonomous, the card says {row['autonomous_km']:.3f}"
            )
    return problems


def _log_loop(
    log: Callable[[str], None],
    name: str,
    got: list[dict[str, Any]],
    stated: list[dict[str, Any]],
    found: list[str],
) -> None:
    by_level = {row["noise_std"]: row for row in got}
    log(
        f"{name} (takeovers within {CLOSED_LOOP_COUNT_TOLERANCE}, autonomous km within "
        f"{CLOSED_LOOP_KM_RTOL:.0%}):"
    )
    for row in stated:
        mine = by_level.get(row["noise_std"], {})
        bad = any(f"{name} noise {row['noise_std']}:" in problem for problem in found)
        log(
            f"  noise {row['noise_std']:<5g} takeovers {mine.get('takeovers', '-')!s:>4} "
            f"card {row['takeovers']:>4}, km {mine.get('autonomous_km', float('nan')):.3f} "
            f"card {row['autonomous_km']:.3f}  {'DIFFERS' if bad else 'ok'}"
        )


def verify(
    card_path: Path,
    work: Path | None = None,
    log: Callable[[str], None] = _quiet,
    held_out: bool = False,
) -> list[str]:
    """Recompute the card's figures; returns the disagreements (empty when it reproduces).

    ``log`` hears the steps and then one line per figure: recomputed, the card's, ok or not
    (within ``RTOL`` relative or ``ATOL`` absolute; closed loop and internals their own
    tolerances). The held-out closed loop is recomputed only with ``held_out``."""
    card_path = Path(card_path)
    doc = _load(card_path)
    if held_out and not (doc.get(HELD_OUT) or {}).get("figures"):
        raise CardSpecError(
            f"{card_path} states no held-out closed-loop figures to verify: compute them with "
            "`python -m ncp_driver.modelcard closed-loop CARD --spec SPEC --held-out`"
        )
    model = card_path.parent / doc["model"]
    if not model.is_file():
        raise CardSpecError(
            f"{card_path} describes {model}, which is not there: rebuild it with the card's "
            "data, training and export commands (models/README.md)"
        )
    problems = []
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    if digest != doc["sha256"]:
        problems.append(f"{model} has sha256 {digest[:12]}, the card says {doc['sha256'][:12]}")
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        figures = evaluate(doc, model, Path(tmp), log, held_out)
    stated = doc["validation"]["mae_inverse_r"]
    same = figures.validation.get("regenerated_drives")
    if same:  # a fact, not a figure: another CPU's OpenCV may round a pixel differently
        log(
            f"validation drives: {same['identical']} of {same['drives']} regenerated bit for bit "
            "(sha256 as in the model's metadata)"
        )
    log(f"figures (tolerance {RTOL:.0%} relative or {ATOL:g} absolute):")
    log(_row("validation MAE (1/m)", figures.validation["mae_inverse_r"], stated))
    for mode, metrics in doc["replay"]["metrics"].items():
        for name, value in metrics.items():
            log(_row(f"replay {mode} {name}", figures.replay[mode][name], value))
    if not close(figures.validation["mae_inverse_r"], stated):
        problems.append(
            f"validation MAE {figures.validation['mae_inverse_r']:.6g} 1/m, the card says {stated:.6g}"
        )
    for mode, metrics in doc["replay"]["metrics"].items():
        for name, value in metrics.items():
            got = figures.replay[mode][name]
            if not close(got, value):
                problems.append(f"replay {mode} {name}: {got}, the card says {value}")
    for key, got_loop, name in (
        (VERIFIED_LOOP, figures.closed_loop, "closed loop"),
        (HELD_OUT, figures.closed_loop_held_out, "held-out closed loop"),
    ):
        if doc.get(key) and got_loop is not None:
            found = closed_loop_problems(got_loop, doc[key]["figures"], name)
            _log_loop(log, name, got_loop, doc[key]["figures"], found)
            problems += found
    stated_internals = doc["replay"].get("internals")
    if stated_internals:
        log("internals on the replay drive (see the card's tolerances):")
        for name, mine, card, ok in internals_rows(figures.internals or {}, stated_internals):
            log(_row(name, mine, card, ok))
        problems += internals_problems(figures.internals or {}, stated_internals)
    return problems


def _training_command(template: str, config: Mapping[str, Any]) -> str:
    """The spec's ``ncp-train`` command filled from the checkpoint's config, checked to give
    that config (the train extra: ncp-train's own parser)."""
    import shlex

    from ncp_driver.modelcard.spec import RECIPE_FIELDS
    from ncp_driver.training.cli import build_parser, config_from_args

    command = fill(template, config, "training.command")
    tokens = shlex.split(command)
    if not tokens or tokens[0] != "ncp-train":
        raise CardSpecError(f"training.command {command!r} must start with ncp-train")
    try:
        stated = config_from_args(build_parser().parse_args(tokens[1:])).resolved().to_dict()
    except SystemExit:
        raise CardSpecError(f"ncp-train refuses training.command {command!r}") from None
    wrong = [
        f"{name} {stated[name]!r} (the checkpoint: {config.get(name)!r})"
        for name in ("kind", *RECIPE_FIELDS)
        if stated[name] != config.get(name)
    ]
    if wrong:
        raise CardSpecError(
            f"training.command {command!r} does not give the checkpoint's run: {'; '.join(wrong)}"
        )
    return command


def _departures(spec: Mapping[str, Any], config: Mapping[str, Any]) -> list[dict[str, Any]]:
    from ncp_driver.modelcard.spec import unexplained_departures
    from ncp_driver.training.train import TrainConfig

    if "departures" not in spec:
        raise CardSpecError(
            "training.departures is missing: list each way the run departs from the paper's "
            "recipe (field, what, why), or [] if none (models/README.md)"
        )
    departures = render_departures(spec["departures"], config)
    paper = TrainConfig(kind=str(config["kind"]), train=["-"]).resolved().to_dict()
    problems = unexplained_departures(config, paper, departures)
    if problems:
        raise CardSpecError("; ".join(problems))
    return departures


def _wall_time(
    checkpoint: Path, model: Path, card_path: Path, spec: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The run's training time (its log.csv, copied beside the card) and the machine."""
    from ncp_driver.training.runs import LOG_NAME, read_log

    run = checkpoint.parent.parent if checkpoint.parent.name == "checkpoints" else None
    if run is None or not (run / LOG_NAME).is_file():
        return None
    rows = read_log(run)
    copy = card_path.parent / f"{model.stem}.training_log.csv"
    if copy.resolve() != (run / LOG_NAME).resolve():
        shutil.copyfile(run / LOG_NAME, copy)
    here = machine()
    return {
        "seconds": round(sum(float(r["seconds"]) for r in rows), 1),
        "epochs": len(rows),
        "log": copy.name,
        "machine": spec.get("machine")
        or f"{here['cpu']}, {here['cores']} cores, CPU only (the machine the card was written on)",
    }


def write(
    checkpoint: Path,
    model: Path,
    card_path: Path,
    spec: Mapping[str, Any],
    log: Callable[[str], None] = _quiet,
    held_out: bool = False,
) -> dict[str, Any]:
    """Make the card of ``model`` (exported from ``checkpoint``) and its Markdown page.

    Checks the spec against the run first (the training command gives the checkpoint's config,
    every departure from the paper's recipe is explained, the data commands write as many
    training files as the model's metadata lists). The held-out closed loop only with
    ``held_out`` (it takes long; ``closed-loop --held-out`` adds it later)."""
    from ncp_driver.runtime.model import load_contract
    from ncp_driver.training.runs import checkpoint_summary  # the train extra: torch

    checkpoint, model, card_path = Path(checkpoint), Path(model), Path(card_path)
    contract = load_contract(model)
    saved = checkpoint_summary(checkpoint)
    config = saved["config"]
    if config.get("kind") != contract.kind:
        raise CardSpecError(
            f"{checkpoint} trained a {config.get('kind')} network, {model} is a {contract.kind}"
        )
    exported = contract.training_data
    epoch = saved["metrics"].get("epoch")
    if exported.get("epoch") is not None and epoch is not None and exported["epoch"] != epoch:
        raise CardSpecError(
            f"{model} was exported from epoch {exported['epoch']} of run {exported.get('run')} "
            f"({exported.get('checkpoint')}); {checkpoint} is epoch {epoch:g}: give the "
            "checkpoint the model was exported from"
        )
    training_spec = spec["training"]
    command = _training_command(str(training_spec["command"]), config)
    departures = _departures(training_spec, config)
    data = training_spec["data"]
    if "train" in data:
        data = describe_data(data)
        listed = contract.training_data.get("train")
        files = training_files(data)
        if isinstance(listed, list) and len(listed) != files:
            dagger = data.get("dagger", {}).get("files")
            raise CardSpecError(
                f"the spec's training data makes {files} files "
                f"({len(data['train']['seeds'])} drives x (1 + {data['train']['views_per_drive']} "
                f"views){f' + {dagger} DAgger drives' if dagger else ''}); {model} was trained "
                f"on {len(listed)}"
            )
    synapses = (contract.wiring.get("synapse_counts") or {}).get("total")
    doc: dict[str, Any] = {
        "model": model.name,
        "sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
        "size_bytes": model.stat().st_size,
        "kind": contract.kind,
        "parameters": saved["parameters"],
        "network": {
            "state_size": contract.state_size,
            "neurons": contract.neuron_count,
            "features": contract.feature_count,
            "synapses": synapses,
        },
        "exporter": contract.exporter,
        "warning": WARNING,
        "notes": [str(note) for note in spec.get("notes", [])],
        "training": {
            "command": command,
            "data": data,
            "departures": departures,
            "wall_time": _wall_time(checkpoint, model, card_path, training_spec),
            "seed": config.get("seed"),
            "epochs": config.get("epochs"),
            "lr": config.get("lr"),
            "seq_len": config.get("seq_len"),
            "stride": config.get("stride") or config.get("seq_len"),
            "exported_epoch": saved["metrics"],
        },
        "replay": {"drive": spec["replay_drive"]},
    }
    if VERIFIED_LOOP in spec:
        doc[VERIFIED_LOOP] = _block(spec[VERIFIED_LOOP])
    if held_out and HELD_OUT not in spec:
        raise CardSpecError(f"--held-out: the spec has no {HELD_OUT} block")
    log("measuring the latency per frame (onnxruntime, this CPU)")
    doc["latency"] = latency(model)
    with tempfile.TemporaryDirectory() as tmp:
        figures = evaluate(doc, model, Path(tmp), log)
    doc["validation"] = figures.validation
    doc["replay"]["metrics"] = figures.replay
    doc["replay"]["internals"] = figures.internals
    if VERIFIED_LOOP in doc:
        doc[VERIFIED_LOOP]["figures"] = figures.closed_loop
    if held_out:
        log("the held-out closed loop: ncp-sim on the held-out roads")
        doc[HELD_OUT] = _held_out_block(model, spec[HELD_OUT])
    _save(card_path, doc)
    return doc


def update_closed_loop(
    card_path: Path, spec: Mapping[str, Any], held_out: bool = False
) -> dict[str, Any]:
    """Compute the closed-loop figures of the card's model from ``spec``'s block (the held-out
    one with ``held_out``) and rewrite the card and its page."""
    card_path = Path(card_path)
    key = HELD_OUT if held_out else VERIFIED_LOOP
    if key not in spec:
        raise CardSpecError(f"the spec has no {key} block")
    doc = _load(card_path)
    model = card_path.parent / doc["model"]
    if held_out:
        doc[key] = _held_out_block(model, spec[key])
    else:
        figures = closed_loop_figures(model, spec[key]["settings"])
        doc[key] = {**_block(spec[key]), "figures": figures}
    _save(card_path, doc)
    return doc


def _block(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {"command": spec["command"], "settings": spec["settings"]}


def _held_out_block(model: Path, spec: Mapping[str, Any]) -> dict[str, Any]:
    began = time.monotonic()
    figures = closed_loop_figures(model, spec["settings"])
    return {**_block(spec), "figures": figures, "seconds": round(time.monotonic() - began, 1)}


def update_internals(card_path: Path) -> dict[str, Any]:
    """Replay the card's drive and (re)write its internals (a card made before they existed)."""
    card_path = Path(card_path)
    doc = _load(card_path)
    model = card_path.parent / doc["model"]
    with tempfile.TemporaryDirectory() as tmp:
        metrics, internals = replay_figures(model, doc["replay"]["drive"], Path(tmp))
    for mode, stated in doc["replay"]["metrics"].items():  # the same replay, or refuse
        for name, value in stated.items():
            if not close(metrics[mode][name], value):
                raise CardError(
                    f"the replay does not reproduce the card's {mode} {name} ({metrics[mode][name]}"
                    f", the card says {value}): verify the card before adding its internals"
                )
    doc["replay"]["internals"] = internals
    _save(card_path, doc)
    return doc


def update_latency(card_path: Path, runs: int = 200) -> dict[str, Any]:
    """Measure the latency again (e.g. through a quiet machine) and rewrite the card."""
    card_path = Path(card_path)
    doc = _load(card_path)
    doc["latency"] = latency(card_path.parent / doc["model"], runs=runs)
    _save(card_path, doc)
    return doc


def render(card_path: Path) -> Path:
    """Rewrite the card's page from its JSON (after editing, say, a departure's wording)."""
    doc = _load(Path(card_path))
    _save(Path(card_path), doc)
    return page_path(Path(card_path))

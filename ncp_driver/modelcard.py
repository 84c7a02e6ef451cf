"""The default model's card: its figures, and the command that reproduces them.

``models/<name>.card.json`` records what data the model saw (synthetic drives, by generator seed),
the training command and seed, the validation error, the replay metrics on a seeded synthetic
drive, and the file's size and hash. ``models/<name>.md`` is the same for people.

    python -m ncp_driver.modelcard verify models/ncp_synthetic.card.json

regenerates the validation drives and the evaluation drive from their seeds, recomputes the
validation error with onnxruntime (the training protocol's windows: 16 frames, state reset per
window, elapsed times from the stamps) and replays the evaluation drive through the on-car
pipeline, and compares each figure with the card (the ``bags`` extra: no torch). ``write`` makes
the card after training (the ``train`` extra: it reads the checkpoint).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver.contract import (
    INPUT_ELAPSED,
    INPUT_FRAME,
    INPUT_STATE,
    OUTPUT_CURVATURE,
    OUTPUT_STATE,
)
from ncp_driver.errors import CardError
from ncp_driver.exitcodes import EPILOG, PROBLEM, USAGE, run_command
from ncp_driver.preprocessing import to_model_input

__all__ = ["CardFigures", "evaluate", "main", "validation_error", "verify"]

RTOL = 1e-2  # figures agree within 1 % (or ATOL): other CPUs and library versions round differently
ATOL = 1e-5
WARNING = (
    "This model has only ever seen SYNTHETIC roads rendered by ncp_driver.synth. It has not been "
    "trained or tested on a real camera, a real road or a real car. It exists to show the stack "
    "working end to end; never drive with it."
)


@dataclass(frozen=True)
class CardFigures:
    """The figures a card states and ``verify`` recomputes."""

    validation: dict[str, float]
    replay: dict[str, dict[str, float | None]]


def _synth_h5(seed: int, duration_s: float, path: Path) -> Path:
    from ncp_driver.synth import DriveConfig, simulate_drive, write_training_h5

    drive = simulate_drive(DriveConfig(seed=seed, duration_s=duration_s))
    write_training_h5(drive, path, preprocessed=True)
    return path


def validation_error(
    model: Path, drives: Sequence[Path], seq_len: int, stride: int
) -> dict[str, float]:
    """MAE of inverse_r (1/m) over the training protocol's validation windows, with onnxruntime."""
    from ncp_driver.drives import elapsed_times, open_drive, read_frames, sequence_windows
    from ncp_driver.runtime.model import open_session, session_contract

    session = open_session(model)
    contract = session_contract(session, str(model))
    names = [OUTPUT_CURVATURE, OUTPUT_STATE] if contract.stateful else [OUTPUT_CURVATURE]
    errors: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    windows = 0
    for path in drives:
        info = open_drive(path, contract.preprocessing)
        for start in sequence_windows(info.stamps, seq_len, stride):
            stop = start + seq_len
            frames = read_frames(info, slice(start, stop), contract.preprocessing)
            inputs = to_model_input(frames, contract.preprocessing)
            elapsed = elapsed_times(info.stamps[start:stop], contract.frame_period_s)
            state = np.zeros((1, contract.state_size), np.float32)
            predicted = np.empty(seq_len)
            for k in range(seq_len):
                feeds: dict[str, np.ndarray] = {INPUT_FRAME: inputs[k : k + 1]}
                if contract.stateful:
                    feeds[INPUT_STATE] = state
                    feeds[INPUT_ELAPSED] = elapsed[k : k + 1].reshape(1, 1)
                out = session.run(names, feeds)
                predicted[k] = out[0][0, 0]
                if contract.stateful:
                    state = out[1]
            errors.append(np.abs(predicted - info.inverse_r[start:stop]))
            labels.append(np.abs(info.inverse_r[start:stop]))
            windows += 1
    if not errors:
        raise CardError("the validation drives hold no window to evaluate")
    err = np.concatenate(errors)
    return {
        "mae_inverse_r": float(err.mean()),
        "straight_ahead_mae_inverse_r": float(np.concatenate(labels).mean()),  # predicting 0
        "frames": float(err.size),
        "windows": float(windows),
    }


def _replay_metrics(
    model: Path, drive: dict[str, Any], work: Path
) -> dict[str, dict[str, float | None]]:
    from ncp_driver.replay import ReplaySettings, replay
    from ncp_driver.synth import DriveConfig, simulate_drive, write_ros2_bag

    bag = work / "evaluation_drive"
    config = DriveConfig(seed=int(drive["seed"]), duration_s=float(drive["duration_s"]))
    write_ros2_bag(
        simulate_drive(config), bag, storage="sqlite3", compressed=bool(drive["compressed"])
    )
    result = replay([bag], ReplaySettings(model=model))
    return {mode: m.to_dict() for mode, m in result.metrics().items()}


def evaluate(card_doc: dict[str, Any], model: Path, work: Path) -> CardFigures:
    """Recompute the card's figures for ``model`` from the seeds in ``card_doc``."""
    data = card_doc["training"]["data"]
    val = [
        _synth_h5(seed, float(data["duration_s"]), work / f"val-{seed}.h5")
        for seed in data["val_seeds"]
    ]
    training = card_doc["training"]
    validation = validation_error(model, val, int(training["seq_len"]), int(training["stride"]))
    replayed = _replay_metrics(model, card_doc["replay"]["drive"], work)
    return CardFigures(validation=validation, replay=replayed)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL)


def verify(card_path: Path, work: Path | None = None) -> list[str]:
    """Recompute the card's figures; returns the disagreements (empty when it reproduces)."""
    card_path = Path(card_path)
    doc = json.loads(card_path.read_text())
    model = card_path.parent / doc["model"]
    problems = []
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    if digest != doc["sha256"]:
        problems.append(f"{model} has sha256 {digest[:12]}, the card says {doc['sha256'][:12]}")
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        figures = evaluate(doc, model, Path(tmp))
    stated = doc["validation"]["mae_inverse_r"]
    if not _close(figures.validation["mae_inverse_r"], stated):
        problems.append(
            f"validation MAE {figures.validation['mae_inverse_r']:.6g} 1/m, the card says {stated:.6g}"
        )
    for mode, metrics in doc["replay"]["metrics"].items():
        for name, value in metrics.items():
            got = figures.replay[mode][name]
            if not _close(got, value):
                problems.append(f"replay {mode} {name}: {got}, the card says {value}")
    return problems


def _markdown(doc: dict[str, Any]) -> str:
    training, data, replay = doc["training"], doc["training"]["data"], doc["replay"]
    rows = "\n".join(
        f"| {mode} | {m['frames']} | {m['mae']:.5f} | {m['rmse']:.5f} | {m['corr']:.3f} |"
        for mode, m in replay["metrics"].items()
    )
    return f"""# Model card: `{doc["model"]}`

> **Warning.** {WARNING}

| | |
| --- | --- |
| network | {doc["kind"]}: the paper's conv head (79,420 parameters) + NCP (19 LTC neurons), {doc["parameters"]:,} parameters |
| file | {doc["size_bytes"] / 1e6:.2f} MB, sha256 `{doc["sha256"]}` |
| exporter | {doc["exporter"]} |
| input | one camera frame, the paper's crop (see the ONNX metadata `ncp_driver.preprocessing`) |
| output | curvature, 1/m, positive = left |

## Data
Synthetic drives from `ncp-synth` (no private data): training seeds {data["train_seeds"]},
validation seeds {data["val_seeds"]}, {data["duration_s"]:g} s each at the paper's 1208 x 1920,
15 Hz, stored as 200 x 78 crops (`{data["command"]}`).

## Training
```
{training["command"]}
```
Seed {training["seed"]}; {training["epochs"]} epochs; exported from epoch
{training["exported_epoch"]["epoch"]:.0f}, the one of lowest validation loss: train loss
{training["exported_epoch"]["train_loss"]:.4g}, validation loss {training["exported_epoch"]["val_loss"]:.4g},
validation MAE {training["exported_epoch"]["val_mae_inverse_r"]:.5f} 1/m (torch). Departures from the paper's
recipe, for a CPU budget of minutes: learning rate {training["lr"]:g} (paper 5e-4), `--readout-init labels`,
{training["epochs"]} epochs (paper: active 200), overlapping windows (stride {training["stride"]}).

## Validation error (onnxruntime, the exported file)
MAE of inverse_r over {doc["validation"]["windows"]:.0f} validation windows of {training["seq_len"]} frames
({doc["validation"]["frames"]:.0f} frames): **{doc["validation"]["mae_inverse_r"]:.5f} 1/m**
(always steering straight ahead would score {doc["validation"]["straight_ahead_mae_inverse_r"]:.5f} 1/m).

## Replay on a synthetic drive
`ncp-demo`'s drive (seed {replay["drive"]["seed"]}, {replay["drive"]["duration_s"]:g} s, JPEG camera) replayed
through the on-car pipeline (`ncp-replay`): predicted against driven curvature (1/m).

| mode | frames | MAE | RMSE | corr |
| --- | --- | --- | --- | --- |
{rows}

## Reproduce
```
python -m ncp_driver.modelcard verify models/{Path(doc["model"]).with_suffix(".card.json").name}
```
regenerates the drives from their seeds and recomputes every figure above (within {RTOL:.0%});
`tests/replay` runs it. Retraining with the command above was run once; whether a second run
gives the same weights was not checked.
"""


def write(
    checkpoint: Path, model: Path, card_path: Path, doc_extra: dict[str, Any]
) -> dict[str, Any]:
    """Make the card of ``model`` (exported from ``checkpoint``) and its Markdown page."""
    from ncp_driver.runtime.model import load_contract

    contract = load_contract(model)
    from ncp_driver.training.runs import checkpoint_summary  # the train extra: torch

    saved = checkpoint_summary(checkpoint)
    config = saved["config"]
    parameters = saved["parameters"]
    doc: dict[str, Any] = {
        "model": model.name,
        "sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
        "size_bytes": model.stat().st_size,
        "kind": contract.kind,
        "parameters": parameters,
        "exporter": contract.exporter,
        "warning": WARNING,
        "training": {
            **doc_extra["training"],
            "seed": config.get("seed"),
            "epochs": config.get("epochs"),
            "lr": config.get("lr"),
            "seq_len": config.get("seq_len"),
            "stride": config.get("stride") or config.get("seq_len"),
            "exported_epoch": saved["metrics"],
        },
        "replay": {"drive": doc_extra["replay_drive"]},
    }
    with tempfile.TemporaryDirectory() as tmp:
        figures = evaluate(doc, model, Path(tmp))
    doc["validation"] = figures.validation
    doc["replay"]["metrics"] = figures.replay
    from ncp_driver.bags.output import atomic_file, write_json

    write_json(card_path, doc, force=True)
    with atomic_file(card_path.with_suffix("").with_suffix(".md"), force=True) as tmp:
        tmp.write_text(_markdown(doc))
    return doc


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ncp_driver.modelcard", epilog=EPILOG, description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("verify", help="recompute a card's figures and compare")
    check.add_argument("card", type=Path)
    make = sub.add_parser("write", help="make a card after training (see models/README.md)")
    make.add_argument("--checkpoint", type=Path, required=True, help="the checkpoint exported")
    make.add_argument("--model", type=Path, required=True, help="the exported .onnx file")
    make.add_argument(
        "--spec", type=Path, required=True, help="JSON: data seeds, commands, replay drive"
    )
    args = parser.parse_args(argv)

    def work() -> int | None:
        if args.command == "verify":
            problems = verify(args.card)
            if problems:
                print("the card does NOT reproduce:\n  " + "\n  ".join(problems))
                return PROBLEM  # a failed verification
            print(f"{args.card}: every figure reproduces (within {RTOL:.0%})")
            return None
        spec = json.loads(args.spec.read_text())
        doc = write(args.checkpoint, args.model, args.model.with_suffix(".card.json"), spec)
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

"""A card's Markdown page (``models/<name>.md``), rendered from its JSON and nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ncp_driver.modelcard.spec import SEED_PLACEHOLDER
from ncp_driver.modelcard.tolerance import (
    CLOSED_LOOP_COUNT_TOLERANCE,
    CLOSED_LOOP_KM_RTOL,
    COUNT_TOLERANCE,
    DEAD_SHARE,
    RTOL,
    SHARE_ATOL,
    TAU_RTOL,
)
from ncp_driver.models import DEFAULT_MODEL_NAME

__all__ = ["NETWORKS", "WARNING", "markdown", "network_line"]

WARNING = (
    "This model has only ever seen SYNTHETIC roads rendered by ncp_driver.synth. It has not been "
    "trained or tested on a real camera, a real road or a real car. It exists to show the stack "
    "working end to end; never drive with it."
)
_HEAD = "the paper's conv head (five convs 24/36/48/64/8, a Dense(4) per channel: 32 features, 79,420 parameters)"
# What each kind is (docs/training.md's kinds table).
NETWORKS = {
    "ncp": f"{_HEAD} + NCP: 19 LTC neurons (12 inter, 6 command, 1 motor) on the paper's wiring, 6 ODE unfolds per frame",
    "cfc": f"{_HEAD} + CfC: ncps' WiredCfCCell on the same NCP wiring (19 neurons)",
    "lstm": f"{_HEAD} + LSTM, 64 units (state [h, c]: 128)",
    "gru": f"{_HEAD} + GRU, 64 units",
    "ctrnn": f"{_HEAD} + CT-RNN, 64 units, 6 unfolds, dt 0.1, tau 1",
    "cnn": "the paper's feed-forward CNN: five 'valid' convs 24/36/48/64/64, dense 1000-100-1",
}


def network_line(doc: Mapping[str, Any]) -> str:
    """The card's network row: what the kind is, its parameters and synapses."""
    kind = doc["kind"]
    net = doc.get("network", {})
    parts = [f"`{kind}`: {NETWORKS.get(kind, kind)}", f"{doc['parameters']:,} parameters"]
    if net.get("synapses") is not None:
        parts.append(f"{net['synapses']} synapses")
    if net.get("state_size") is not None:
        parts.append(f"state {net['state_size']}" if net["state_size"] else "no state")
    return "; ".join(parts)


def _n(count: int, word: str) -> str:
    """``1 drive``, ``8 drives``."""
    return f"{count} {word}" + ("" if count == 1 else "s")


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.0f} s"


def _num(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _loop(block: Mapping[str, Any]) -> str:
    command = block["command"].replace(SEED_PLACEHOLDER, "$s")
    seeds = " ".join(str(s) for s in block["seeds"])
    return f"for s in {seeds}; do {command}; done"


def _data(doc: Mapping[str, Any]) -> str:
    data = doc["training"]["data"]
    if "train" not in data:  # an older card: seeds and one command
        return f"""## Data
Synthetic drives from `ncp-synth` (no private data): training seeds {data["train_seeds"]},
validation seeds {data["val_seeds"]}, {data["duration_s"]:g} s each at the paper's 1208 x 1920,
15 Hz, stored as 200 x 78 crops (`{data["command"]}`).
"""
    train, val = data["train"], data["val"]
    views = train["views_per_drive"]
    recovery = (
        f"each drive with {views} recovery views beside it (the same drive seen from poses "
        f"offset {', '.join(f'{v:g}' for v in train['recovery_offsets_m']) or '0'} m across "
        f"the road and turned {', '.join(f'{v:g}' for v in train['recovery_yaw_deg']) or '0'} "
        "degrees, both ways, labelled with the curvature back to the lane centre: docs/synth.md)"
        if views
        else "no recovery views"
    )
    val_seeds = ", ".join(str(s) for s in val["seeds"])
    train_seeds = ", ".join(str(s) for s in train["seeds"])
    val_views = (
        f"with {val['views_per_drive']} recovery views each"
        if val["views_per_drive"]
        else "no recovery views (validation stays like real data)"
    )
    crops = ", stored as the model's 200 x 78 crops" if train["preprocessed"] else ""
    dagger = data.get("dagger")
    on_policy, dagger_command = "", ""
    if dagger:
        seeds = dagger["road_seeds"]
        levels = ", ".join(f"{v:g}" for v in dagger["noise_levels"])
        on_policy = f"""

On-policy drives (DAgger, docs/sim.md): {_n(dagger["files"], "drive")}. The model
`{dagger["model"]}` (sha256 `{dagger["model_sha256"][:16]}`{", " + dagger["model_note"] if dagger["model_note"] else ""})
drove roads {seeds[0]}-{seeds[-1]} ({dagger["road_m"]:g} m each) in `ncp-sim` at input noise
{levels}; every camera frame it received is labelled with the reference driver's curvature back
to the lane centre from the car's actual pose."""
        dagger_command = "\n" + dagger["command"]
    return f"""## Data
Synthetic drives from `ncp-synth` (no private data), {train["duration_s"]:g} s each at
{train["size"][0]} x {train["size"][1]}, {train["camera_hz"]:g} Hz{crops}.
Training: {_n(len(train["seeds"]), "drive")} (seeds {train_seeds}), {recovery}:
{_n(train["files"], "file")}. Validation: {_n(len(val["seeds"]), "drive")} (seeds {val_seeds}), {val_views}.{on_policy}

```bash
{_loop(train)}
{_loop(val)}{dagger_command}
```
"""


def _departures(doc: Mapping[str, Any]) -> str:
    items = doc["training"].get("departures")
    if items is None:
        return "This card was made before departures from the paper's recipe were recorded.\n"
    if not items:
        return "The run follows the paper's recipe (docs/training.md) in every setting.\n"
    lines = "\n".join(f"- **{item['what']}**: {item['why']}" for item in items)
    return f"Departures from the paper's recipe (docs/training.md), and why:\n\n{lines}\n"


def _wall_time(doc: Mapping[str, Any]) -> str:
    wall = doc["training"].get("wall_time")
    if not wall:
        return ""
    return (
        f"Training took {_duration(wall['seconds'])} ({wall['seconds']:.0f} s, the sum of the "
        f"{_n(wall['epochs'], 'epoch')}' seconds in the run's `log.csv`, copied to "
        f"`{wall['log']}`) on {wall['machine']}.\n"
    )


def _training(doc: Mapping[str, Any]) -> str:
    training = doc["training"]
    best = training["exported_epoch"]
    log = (training.get("wall_time") or {}).get("log")
    losses = f"each epoch's losses: `{log}`" if log else "the run's `log.csv` has each epoch's"
    return f"""## Training
```
{training["command"]}
```
Seed {training["seed"]}; {_n(training["epochs"], "epoch")}; exported from epoch {best["epoch"]:.0f} ({losses}):
train loss {best["train_loss"]:.4g}, validation loss
{best["val_loss"]:.4g}, validation MAE {best["val_mae_inverse_r"]:.5f} 1/m (torch).
{_wall_time(doc)}
{_departures(doc)}"""


def _closed_loop(doc: Mapping[str, Any], key: str) -> str:
    closed = doc.get(key)
    if not closed or "figures" not in closed:
        return ""
    spec = closed["settings"]
    held_out = key == "closed_loop_held_out"
    rows = "\n".join(
        f"| {r['noise_std']:g} | {r['takeovers']} | {r['autonomous_km']:.2f} | "
        f"{r['takeovers_per_km']:.2f} | {r['takeovers_per_km_95'][0]:.2f}-"
        f"{r['takeovers_per_km_95'][1]:.2f} |"
        for r in closed["figures"]
    )
    km = spec["roads"] * spec.get("road_m", 1000.0) / 1000.0
    last = spec["seed"] + spec["roads"] - 1
    clean = next((r for r in closed["figures"] if r["noise_std"] == 0), None)
    from ncp_driver.replay.noise import PAPER_NOISE_LEVELS  # (the replay package loads onnxruntime)

    levels = [float(r["noise_std"]) for r in closed["figures"]]
    noise = "at input noise std " + ", ".join(f"{v:g}" for v in levels)
    if levels == [0.0]:
        noise = "without input noise"
    elif tuple(levels) == (0.0, *PAPER_NOISE_LEVELS):
        noise += " (the paper's levels)"
    summary = ""
    if held_out and clean is not None:
        low, high = clean["takeovers_per_km_95"]
        summary = (
            f"\nAt noise 0: {_n(clean['takeovers'], 'takeover')} in {clean['autonomous_km']:.1f} km "
            f"driven autonomously, {10 * clean['takeovers_per_km']:.2f} per 10 km (95 % interval "
            f"{10 * low:.2f}-{10 * high:.2f}).\n"
        )
    if held_out:
        title = "## Closed loop on the held-out roads (stated, not verified by default)"
        status = (
            f"These figures are **not recomputed** by `modelcard verify` unless it is asked "
            f"`--held-out` (then within the same tolerances); they took "
            f"{_duration(closed.get('seconds', 0))} to compute here."
        )
    else:
        title = "## Closed loop (`ncp-sim`, verified)"
        status = "`modelcard verify` recomputes these figures."
    return f"""{title}
The model steers a simulated car through the on-car pipeline on {_n(spec["roads"], "procedural road")}
(seeds {spec["seed"]}-{last}, {spec.get("road_m", 1000.0):g} m each, {km:g} km in all, none of them a
training road), {noise}; a virtual safety driver takes over when
the car leaves its lane (docs/sim.md). Actuator: 0.1 s delay + {spec["compute_s"]:g} s compute time,
0.2 s lag. {status} `{closed["command"]}`

| noise std | takeovers | autonomous km | takeovers per km | 95 % interval |
| --- | --- | --- | --- | --- |
{rows}
{summary}
"""


def _internals(doc: Mapping[str, Any]) -> str:
    internals = doc["replay"].get("internals")
    if not internals:
        return ""
    f = internals["features"]
    what = (
        "the 1000 units of its first dense layer (its `features` output)"
        if doc["kind"] == "cnn"
        else f"the {f['features']} sensory features (the conv head's output, the ONNX `features`)"
    )
    shares = ", ".join(f"{s:.2f}" for s in f["nonzero_share"]) if f["features"] <= 64 else ""
    dead = "none" if f["dead"] == 0 else f"**{f['dead']} of {f['features']}**"
    text = f"""## Internals on the replay drive
On the {f["frames"]} frames the model ran on, {what}: {dead} dead (non-zero on fewer than
{DEAD_SHARE:.0%} of the frames; {f["never_nonzero"]} never non-zero); the non-zero values have a median size of {_num(f["nonzero_median_abs"])}
(largest {_num(f["nonzero_max_abs"])}).{f" Share of frames each feature is non-zero: {shares}." if shares else ""}
"""
    tau = internals.get("time_constants")
    if tau:
        period = tau["frame_period_s"]
        text += f"""
LTC time constants tau = cm / (g_leak + sum w s) along the drive (`ncp_driver.audit.timeconstants`,
sensory synapses included): from {_num(tau["min_s"])} s to {_num(tau["max_s"])} s (median {_num(tau["median_s"])} s);
the neurons' median tau ranges from {_num(tau["neuron_median_min_s"])} s to {_num(tau["neuron_median_max_s"])} s
against a frame period of {period * 1e3:.1f} ms: {tau["neurons_median_below_frame"]} of {tau["neurons"]} neurons
have a median tau below one frame (they follow their inputs within the frame), and
{tau["share_below_frame"]:.0%} of all values are.
"""
    return text + "\n"


def _notes(doc: Mapping[str, Any]) -> str:
    notes = doc.get("notes")
    if not notes:
        return ""
    return "## Notes\n" + "\n".join(f"- {note}" for note in notes) + "\n\n"


def _regenerated(doc: Mapping[str, Any]) -> str:
    same = doc["validation"].get("regenerated_drives")
    if not same:
        return ""
    return (
        f"\nThe validation drives, regenerated from the commands above, are bit-identical to those "
        f"trained with in {same['identical']} of {same['drives']} cases (sha256 as in the "
        "model's metadata)."
    )


def _latency(doc: Mapping[str, Any]) -> str:
    lat = doc.get("latency")
    if not lat:
        return "-"
    m = lat["machine"]
    return (
        f"{lat['median_ms']:.2f} ms per frame (median of {lat['runs']}; 90 % within "
        f"{lat['p90_ms']:.2f} ms) on {m['cpu']}, {m['cores']} cores, onnxruntime "
        f"{m['onnxruntime']} ({lat['measured']}; reported, not verified)"
    )


def markdown(doc: Mapping[str, Any]) -> str:
    """The card's page for people."""
    training, replay = doc["training"], doc["replay"]
    drive = replay["drive"]
    rows = "\n".join(
        f"| {mode} | {m['frames']} | {m['mae']:.5f} | {m['rmse']:.5f} | {m['corr']:.3f} |"
        for mode, m in replay["metrics"].items()
    )
    verified = ["the open-loop figures"]
    if replay.get("internals"):
        verified.append("the internals")
    verified.append(
        "the closed loop on the short road set" if doc.get("closed_loop") else "no closed loop"
    )
    tested = (
        " `tests/replay` runs this check on the default model's card."
        if doc["model"] == DEFAULT_MODEL_NAME
        else ""
    )
    held = doc.get("closed_loop_held_out")
    held_note = "; the held-out roads' closed-loop figures only with `--held-out`" if held else ""
    card_name = Path(doc["model"]).with_suffix(".card.json").name
    commands = f"python -m ncp_driver.modelcard verify models/{card_name}"
    if held:
        commands += f"\npython -m ncp_driver.modelcard verify --held-out models/{card_name}"
    return f"""# Model card: `{doc["model"]}`

> **Warning.** {WARNING}

| | |
| --- | --- |
| network | {network_line(doc)} |
| file | {doc["size_bytes"] / 1e6:.2f} MB, sha256 `{doc["sha256"]}` |
| latency | {_latency(doc)} |
| exporter | {doc["exporter"]} |
| input | one camera frame, the paper's crop (see the ONNX metadata `ncp_driver.preprocessing`) |
| output | curvature, 1/m, positive = left |

{_notes(doc)}{_data(doc)}
{_training(doc)}
## Validation error (onnxruntime, the exported file)
MAE of inverse_r over {doc["validation"]["windows"]:.0f} validation windows of {training["seq_len"]} frames
({doc["validation"]["frames"]:.0f} frames): **{doc["validation"]["mae_inverse_r"]:.5f} 1/m**
(always steering straight ahead would score {doc["validation"]["straight_ahead_mae_inverse_r"]:.5f} 1/m).{_regenerated(doc)}

## Replay on a synthetic drive
The drive of `{drive.get("command", "ncp-demo")}` (seed {drive["seed"]}, {drive["duration_s"]:g} s, JPEG camera) replayed
through the on-car pipeline (`ncp-replay`): predicted against driven curvature (1/m).

| mode | frames | MAE | RMSE | corr |
| --- | --- | --- | --- | --- |
{rows}

{_internals(doc)}{_closed_loop(doc, "closed_loop")}{_closed_loop(doc, "closed_loop_held_out")}## Reproduce
```
{commands}
```
regenerates the validation drives and the replay drive from their seeds and recomputes every
figure above (within {RTOL:.0%}; closed-loop takeover counts within {CLOSED_LOOP_COUNT_TOLERANCE},
autonomous distance within {CLOSED_LOOP_KM_RTOL:.0%}; internals: a feature's non-zero share within
{SHARE_ATOL:.0%} of the frames, counts within {COUNT_TOLERANCE}, time constants within {TAU_RTOL:.0%}).
Verified: {", ".join(verified[:-1])} and {verified[-1]}{held_note}. Latency is reported, never
verified.{tested} Retraining with the commands above was run once; whether a second run gives the
same weights was not checked.
"""

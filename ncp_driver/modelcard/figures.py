"""The figures a card states, computed from the exported file with the car's own code.

Validation error (onnxruntime over the training protocol's windows), the replay of a seeded
synthetic drive through the on-car pipeline (its metrics and the model's internals), takeovers
per km in ``ncp-sim``, and latency per frame on this CPU (reported, never verified).
"""

from __future__ import annotations

import hashlib
import os
import platform
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import fields
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
from ncp_driver.errors import CardError, CardSpecError
from ncp_driver.preprocessing import to_model_input

_MIB = 1024 * 1024

__all__ = [
    "closed_loop_figures",
    "drive_identity",
    "latency",
    "machine",
    "replay_figures",
    "validation_drives",
    "validation_error",
]


def _synth_h5(seed: int, duration_s: float, path: Path) -> Path:
    """An older card's validation drive: ncp_driver.synth's defaults for the seed and length."""
    from ncp_driver.synth import DriveConfig, simulate_drive, write_training_h5

    drive = simulate_drive(DriveConfig(seed=seed, duration_s=duration_s))
    write_training_h5(drive, path, preprocessed=True)
    return path


def validation_drives(data: Mapping[str, Any], work: Path) -> list[Path]:
    """Regenerate the card's validation drives in ``work``: its ``ncp-synth`` command per seed
    (an older card: the seed and duration with the generator's defaults)."""
    from ncp_driver.modelcard.spec import synth_arguments, synth_drive

    if "val" in data:
        val = data["val"]
        paths = []
        for seed in val["seeds"]:
            name = synth_arguments(val["command"], int(seed)).out.name  # as trained with
            paths += synth_drive(val["command"], int(seed), work / f"val-{seed}" / name)
        return paths
    duration = float(data["duration_s"])
    return [_synth_h5(int(s), duration, work / f"val-{s}.h5") for s in data["val_seeds"]]


def _sha256(path: Path, whole: bool) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        if whole:
            for block in iter(lambda: handle.read(_MIB), b""):
                digest.update(block)
        else:  # how ncp-train identifies a file of 64 MiB or more
            digest.update(handle.read(_MIB))
    return digest.hexdigest()


def drive_identity(paths: Sequence[Path], listed: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """How many regenerated drives are bit-identical to those the model was trained with (by the
    sha256 its metadata records for the file of that name); ``unmatched``: no such name."""
    by_name = {str(item.get("name")): item for item in listed}
    identical = unmatched = 0
    for path in paths:
        item = by_name.get(path.name)
        if item is None:
            unmatched += 1
        elif _sha256(path, item.get("sha256_of") == "file") == item.get("sha256"):
            identical += 1
    return {"drives": len(paths), "identical": identical, "unmatched": unmatched}


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


def replay_figures(
    model: Path, drive: Mapping[str, Any], work: Path
) -> tuple[dict[str, dict[str, float | None]], dict[str, Any]]:
    """Replay the card's seeded drive through the on-car pipeline: the agreement metrics per
    mode, and the model's internals along it (:mod:`ncp_driver.modelcard.internals`)."""
    from ncp_driver.ltc_parameters import LtcParameters
    from ncp_driver.modelcard.internals import feature_activity, time_constant_summary
    from ncp_driver.replay import ReplaySettings, replay
    from ncp_driver.runtime.model import open_session, session_contract
    from ncp_driver.synth import DriveConfig, simulate_drive, write_ros2_bag

    bag = work / "evaluation_drive"
    options: dict[str, Any] = {}
    if "size" in drive:  # the camera's frame; default the paper's 1208 x 1920
        options["height"], options["width"] = (int(v) for v in drive["size"])
    if "takeovers" in drive:  # default DriveConfig's
        options["takeover_count"] = int(drive["takeovers"])
    config = DriveConfig(seed=int(drive["seed"]), duration_s=float(drive["duration_s"]), **options)
    write_ros2_bag(
        simulate_drive(config), bag, storage="sqlite3", compressed=bool(drive["compressed"])
    )
    result = replay([bag], ReplaySettings(model=model))
    metrics = {mode: m.to_dict() for mode, m in result.metrics().items()}
    features = np.asarray(result.clean.features, dtype=np.float64)
    features = features.reshape(features.shape[0], -1)
    internals: dict[str, Any] = {"features": feature_activity(features)}
    session = open_session(model)
    contract = session_contract(session, str(model))
    params = LtcParameters.from_metadata(session.get_modelmeta().custom_metadata_map)
    if params is not None and len(result.clean.neurons):
        neurons = np.asarray(result.clean.neurons, dtype=np.float64)
        internals["time_constants"] = time_constant_summary(
            params, neurons.reshape(neurons.shape[0], -1), features, contract.frame_period_s
        )
    return metrics, internals


def sim_settings(spec: Mapping[str, Any]) -> Any:
    """The :class:`ncp_driver.sim.SimSettings` of a card's closed-loop ``settings``."""
    from ncp_driver.sim import SimSettings

    known = {item.name for item in fields(SimSettings)}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise CardSpecError(
            f"closed-loop settings {unknown} are not ncp-sim settings (SimSettings: "
            f"{', '.join(sorted(known))})"
        )
    values = dict(spec)
    if "noise_levels" in values:
        values["noise_levels"] = tuple(float(v) for v in values["noise_levels"])
    return SimSettings(**values)


def closed_loop_figures(model: Path, spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Takeovers per km at each noise level of ``spec`` (``ncp-sim`` on its road set)."""
    from ncp_driver.runtime import PipelineConfig
    from ncp_driver.sim import RunTask, open_driver, run_all, summarise

    settings = sim_settings(spec)
    driver = open_driver(model.stem, model, settings, PipelineConfig())
    tasks = [
        RunTask(driver, level, seed, None, None)
        for level in settings.noise_levels
        for seed in settings.road_seeds
    ]
    results = run_all(tasks, settings, os.cpu_count() or 1)
    out = []
    for level in settings.noise_levels:
        runs = [r["figures"] for t, r in zip(tasks, results, strict=True) if t.noise_std == level]
        total = summarise(runs)
        out.append(
            {
                "noise_std": level,
                "takeovers": total["takeovers"],
                "autonomous_km": total["autonomous_km"],
                "takeovers_per_km": total["takeovers_per_km"],
                "takeovers_per_km_95": total["takeovers_per_km_95"],
            }
        )
    return out


def machine() -> dict[str, Any]:
    """This computer, as a card names it beside a timing."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import onnxruntime

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "arch": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "onnxruntime": onnxruntime.__version__,
    }


def latency(model: Path, runs: int = 200, warmup: int = 20) -> dict[str, Any]:
    """The model's time per frame with onnxruntime on this CPU (the tools' session settings,
    one frame and its state per call), median and 90th percentile in ms. Reported, not verified:
    it depends on the machine and on what else runs on it."""
    from ncp_driver.runtime.model import open_session, session_contract

    session = open_session(model)
    contract = session_contract(session, str(model))
    height, width = contract.preprocessing.out_height, contract.preprocessing.out_width
    crop = np.random.default_rng(0).integers(0, 256, (1, height, width, 3), dtype=np.uint8)
    feeds: dict[str, np.ndarray] = {INPUT_FRAME: to_model_input(crop, contract.preprocessing)}
    names = [OUTPUT_CURVATURE, OUTPUT_STATE] if contract.stateful else [OUTPUT_CURVATURE]
    if contract.stateful:
        feeds[INPUT_STATE] = np.zeros((1, contract.state_size), np.float32)
        feeds[INPUT_ELAPSED] = np.full((1, 1), contract.frame_period_s, np.float32)
    seconds = []
    for k in range(warmup + runs):
        began = time.perf_counter()
        out = session.run(names, feeds)
        if k >= warmup:
            seconds.append(time.perf_counter() - began)
        if contract.stateful:
            feeds[INPUT_STATE] = out[1]
    ordered = sorted(seconds)
    return {
        "median_ms": round(statistics.median(ordered) * 1e3, 4),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1e3, 4),
        "runs": runs,
        "what": "one session.run per frame (curvature and state), onnxruntime CPU, the tools' "
        "session settings (all cores)",
        "machine": machine(),
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }

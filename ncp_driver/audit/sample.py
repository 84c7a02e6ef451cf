"""A small synthetic replay directory in the replay's format, for demos, docs and tests.

The drive: a car at constant speed on a winding road (GPS around a chosen origin), a human
curvature, a model prediction that follows it with noise, autonomous stretches ending in
takeovers, NCP-like neuron potentials and conv features. Deterministic for a given seed.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver.audit.output import atomic_write_text
from ncp_driver.audit.replay import (
    DISCOMFORT_FILE,
    METRICS_FILE,
    NEURONS_FILE,
    OUTPUT_COLUMNS,
    OUTPUT_FILE,
    SENSORY_FILE,
    TAKEOVERS_FILE,
)
from ncp_driver.takeover import find_takeovers

__all__ = ["SampleDrive", "write_sample_replay"]


@dataclass(frozen=True)
class SampleDrive:
    """Options of the synthetic drive."""

    frames: int = 600
    rate_hz: float = 10.0
    speed_mps: float = 8.0
    neurons: int = 19
    features: int = 32
    gps: bool = True
    human: bool = True
    origin: tuple[float, float] = (48.2082, 16.3738)
    seed: int = 0


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _num(value: float) -> str:
    return "" if not np.isfinite(value) else f"{value:.9g}"


def write_sample_replay(
    directory: Path | str, drive: SampleDrive = SampleDrive(), model: str | None = None
) -> Path:
    """Write output.csv, neurons.csv, sensory.csv and the JSON files into ``directory``."""
    directory = Path(directory)
    rng = np.random.default_rng(drive.seed)
    n = drive.frames
    stamp = 1_700_000_000.0 + np.arange(n) / drive.rate_hz
    t = stamp - stamp[0]
    human = 0.02 * np.sin(2 * np.pi * t / 25.0) + 0.01 * np.sin(2 * np.pi * t / 7.0)
    predicted = human + rng.normal(0.0, 0.002, n)
    autonomous = np.zeros(n, dtype=bool)
    for a, b in ((0.1, 0.45), (0.55, 0.9)):
        autonomous[int(a * n) : int(b * n)] = True
    commanded = np.clip(predicted, -0.05, 0.05)
    steering = np.arctan(2.7 * commanded)
    speed = np.full(n, drive.speed_mps)
    heading = np.cumsum(human * speed / drive.rate_hz)
    east = np.cumsum(speed * np.cos(heading) / drive.rate_hz)
    north = np.cumsum(speed * np.sin(heading) / drive.rate_hz)
    lat0, lon0 = drive.origin
    lat = lat0 + np.degrees(north / 6_371_000.0)
    lon = lon0 + np.degrees(east / (6_371_000.0 * np.cos(np.radians(lat0))))
    if not drive.gps:
        lat = lon = np.full(n, np.nan)
    human_out = human if drive.human else np.full(n, np.nan)
    status = np.array(["ok"] * n, dtype=object)
    status[5] = "stale"
    reset = np.array([""] * n, dtype=object)
    starts = np.flatnonzero(np.diff(autonomous.astype(int)) == 1) + 1
    reset[starts] = "engaged"
    rows = []
    for i in range(n):
        limits = "curvature;rate" if abs(predicted[i]) > 0.05 else ""
        rows.append(
            [
                f"{stamp[i]:.6f}",
                str(status[i]),
                str(int(autonomous[i])),
                _num(commanded[i]),
                _num(predicted[i]),
                _num(steering[i]),
                _num(human_out[i]),
                limits,
                str(reset[i]),
                _num(lat[i]),
                _num(lon[i]),
                _num(speed[i]),
            ]
        )
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write_text(directory / OUTPUT_FILE, _csv(list(OUTPUT_COLUMNS), rows))
    # Neuron potentials: lagged, scaled copies of the curvature plus noise.
    lags = rng.integers(0, 20, drive.neurons)
    gains = rng.uniform(-30.0, 30.0, drive.neurons)
    potentials = np.stack(
        [np.tanh(g * np.roll(human, int(k))) for g, k in zip(gains, lags, strict=True)], axis=1
    ) + rng.normal(0.0, 0.05, (n, drive.neurons))
    features = np.maximum(0.0, rng.normal(0.5, 0.3, (n, drive.features)) + 10 * human[:, None])
    for name, prefix, values in (
        (NEURONS_FILE, "n", potentials),
        (SENSORY_FILE, "f", features),
    ):
        header = ["stamp"] + [f"{prefix}{k}" for k in range(values.shape[1])]
        body = [[f"{stamp[i]:.6f}"] + [_num(v) for v in values[i]] for i in range(n)]
        atomic_write_text(directory / name, _csv(header, body))
    take = find_takeovers(stamp, autonomous)
    auto_time = float(np.sum(np.diff(stamp)[autonomous[:-1]]))
    auto_km = auto_time * drive.speed_mps / 1000.0
    # The bag tools' documents (ncp-bag takeovers --json, ncp-bag discomfort --json).
    takeovers: dict[str, Any] = {
        "bags": ["sample.mcap"],
        "auto_topic": "/vehicle/autonomous",
        "gps_topic": "/gps/fix" if drive.gps else None,
        "speed_source": "odometry",
        "min_duration_s": 0.5,
        "recording_s": float(stamp[-1] - stamp[0]),
        "takeovers": int(take.size),
        "autonomous_s": auto_time,
        "autonomous_km": auto_km if drive.gps else None,
        "takeovers_per_hour": take.size / (auto_time / 3600.0),
        "takeovers_per_km": take.size / auto_km if drive.gps else None,
        "events": [
            {
                "number": k + 1,
                "stamp": float(stamp[i]),
                "time_utc": "",
                "since_start_s": float(stamp[i] - stamp[0]),
                "latitude": float(lat[i]) if drive.gps else None,
                "longitude": float(lon[i]) if drive.gps else None,
                "speed_mps": float(speed[i]),
            }
            for k, i in enumerate(take)
        ],
        "segments": [],
        "skipped_messages": {},
    }
    lateral = np.abs(speed**2 * commanded)[autonomous]
    jerk = np.abs(np.gradient(speed**2 * commanded, stamp))[autonomous]
    discomfort = {
        "bags": ["sample.mcap"],
        "scope": "autonomous",
        "auto_topic": "/vehicle/autonomous",
        "limits": {"a_lat_mps2": 4.89, "jerk_mps3": 8.37},
        "settings": {},
        "sources": [
            {
                "source": "odometry",
                "topic": "/odom",
                "samples": int(lateral.size),
                "duration_s": float(lateral.size / drive.rate_hz),
                "a_lat_rms": float(np.sqrt(np.mean(lateral**2))),
                "a_lat_p95": float(np.percentile(lateral, 95)),
                "a_lat_max": float(lateral.max()),
                "jerk_rms": float(np.sqrt(np.mean(jerk**2))),
                "jerk_p95": float(np.percentile(jerk, 95)),
                "jerk_max": float(jerk.max()),
                "a_lat_over_limit_share": float(np.mean(lateral > 4.89)),
                "jerk_over_limit_share": float(np.mean(jerk > 8.37)),
            }
        ],
        "skipped_messages": {},
    }
    metrics: dict[str, object] = {"frames": n}
    for mode, mask in (("autonomous", autonomous), ("manual", ~autonomous), ("all", None)):
        sel = np.ones(n, dtype=bool) if mask is None else mask
        if drive.human:
            err = predicted[sel] - human[sel]
            metrics[mode] = {
                "mae": float(np.mean(np.abs(err))),
                "rmse": float(np.sqrt(np.mean(err**2))),
                "corr": float(np.corrcoef(predicted[sel], human[sel])[0, 1]),
                "frames": int(sel.sum()),
            }
        else:
            metrics[mode] = {"mae": None, "rmse": None, "corr": None, "frames": 0}
    metrics.update(
        model=model or "",
        kind="ncp",
        model_sha256="0" * 64,
        provider="CPUExecutionProvider",
        status_counts={"ok": n - 1, "stale": 1},
    )
    atomic_write_text(directory / METRICS_FILE, json.dumps(metrics, indent=2))
    atomic_write_text(directory / TAKEOVERS_FILE, json.dumps(takeovers, indent=2))
    atomic_write_text(directory / DISCOMFORT_FILE, json.dumps(discomfort, indent=2))
    return directory

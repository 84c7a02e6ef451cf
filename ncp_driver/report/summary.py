"""The report's key figures, from the replay directory's files.

Sources, in order of preference: ``takeovers.json`` and ``discomfort.json`` (the bag tools'
``--json`` documents: ``takeovers``, ``takeovers_per_hour``, ``takeovers_per_km``,
``autonomous_s``, ``autonomous_km``, ``events``; ``sources`` with ``a_lat_rms`` ...
``jerk_over_limit_share`` and ``limits``), then ``metrics.json`` (``autonomous``/``manual``/
``all`` with ``mae``, ``rmse``, ``corr``, ``frames``; ``model``, ``kind``, ``model_sha256``,
``provider``), then what ``output.csv`` itself shows (takeovers by the core rule, autonomous
time, distance from GPS or speed). Each figure says where it came from.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver.audit.replay import Replay
from ncp_driver.comfort import JERK_LIMIT_MPS3, LATERAL_LIMIT_MPS2
from ncp_driver.geo import step_lengths_m
from ncp_driver.takeover import debounce, find_takeovers

__all__ = [
    "JERK_LIMIT_MPS3",
    "LATERAL_LIMIT_MPS2",
    "KeyFigure",
    "KeyFigureGroup",
    "TakeoverEvent",
    "key_figures",
    "takeover_events",
]

_MAX_STEP_S = 1.0  # a gap between frames longer than this counts as no driving


@dataclass(frozen=True)
class KeyFigure:
    """One key figure: ``value`` is already formatted; ``source`` says where it came from."""

    label: str
    value: str
    source: str = ""


@dataclass(frozen=True)
class KeyFigureGroup:
    title: str
    figures: list[KeyFigure] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class TakeoverEvent:
    stamp: float
    latitude: float
    longitude: float
    speed: float


def _get(data: Any, *keys: str) -> Any:
    """The first of ``keys`` (dotted paths) present and not None in ``data``."""
    for key in keys:
        node = data
        for part in key.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
            if node is None:
                break
        if node is not None:
            return node
    return None


def _float(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


def _fmt(value: Any, spec: str = ".3g", unit: str = "") -> str:
    number = _float(value)
    if not math.isfinite(number):
        return "n/a"
    if spec == ".3g" and abs(number) >= 1000:
        spec = ",.0f"  # 2,120 rather than 2.12e+03
    return f"{number:{spec}}" + (f" {unit}" if unit else "")


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "n/a"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def _frame_steps(replay: Replay) -> np.ndarray:
    """Seconds each frame lasts (to the next frame), 0 across gaps and for the last frame."""
    if replay.frames < 2:
        return np.zeros(replay.frames)
    step = np.diff(replay.stamp)
    step = np.where((step > 0) & (step <= _MAX_STEP_S), step, 0.0)
    return np.concatenate((step, [0.0]))


def _autonomous_distance_m(replay: Replay, flags: np.ndarray) -> tuple[float, str]:
    if replay.has_gps:
        # the step into each frame (0 for the first)
        steps = np.concatenate(([0.0], step_lengths_m(replay.latitude, replay.longitude)))
        both = flags & np.concatenate(([False], flags[:-1]))
        ok = both & np.isfinite(steps)
        return float(np.sum(steps[ok])), "GPS in output.csv"
    if replay.has_speed:
        moved = np.nan_to_num(replay.speed) * _frame_steps(replay)
        return float(np.sum(moved[flags])), "speed in output.csv"
    return math.nan, "no GPS or speed"


def takeover_events(replay: Replay) -> list[TakeoverEvent]:
    """Takeovers from takeovers.json (``events``), else by the core rule on output.csv."""
    events = _get(replay.takeovers, "events")
    if isinstance(events, Sequence):
        return [
            TakeoverEvent(
                stamp=_float(_get(e, "stamp")),
                latitude=_float(_get(e, "latitude")),
                longitude=_float(_get(e, "longitude")),
                speed=_float(_get(e, "speed_mps", "speed")),
            )
            for e in events
            if isinstance(e, Mapping)
        ]
    index = find_takeovers(replay.stamp, replay.autonomous)
    return [
        TakeoverEvent(
            float(replay.stamp[i]),
            float(replay.latitude[i]),
            float(replay.longitude[i]),
            float(replay.speed[i]),
        )
        for i in index
    ]


def _model_hash(replay: Replay) -> str | None:
    given = _get(replay.metrics, "model_sha256", "model_hash", "sha256", "model_card.sha256")
    if given:
        return str(given)
    path = replay.model_path
    if path is None or not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def key_figures(replay: Replay, model_kind: str | None = None) -> list[KeyFigureGroup]:
    """The header of the report, grouped; absent pieces are marked ``n/a`` with a note."""
    flags = debounce(replay.stamp, replay.autonomous)
    bag = replay.takeovers if isinstance(replay.takeovers, Mapping) else None
    computed = "output.csv (core takeover rule)"
    groups: list[KeyFigureGroup] = []

    # Takeovers and autonomy.
    auto_s = _float(_get(bag, "autonomous_s")) if bag else math.nan
    time_source = "takeovers.json"
    if not math.isfinite(auto_s):
        auto_s, time_source = float(np.sum(_frame_steps(replay)[flags])), "output.csv"
    auto_km = _float(_get(bag, "autonomous_km")) if bag else math.nan
    km_source = "takeovers.json"
    if not math.isfinite(auto_km):
        metres, km_source = _autonomous_distance_m(replay, flags)
        auto_km = metres / 1000.0
    count = _get(bag, "takeovers") if bag else None
    count_source = "takeovers.json"
    if not isinstance(count, (int, float)):
        count, count_source = int(find_takeovers(replay.stamp, replay.autonomous).size), computed
    per_hour = _get(bag, "takeovers_per_hour") if bag else None
    if per_hour is None and auto_s > 0:
        per_hour = count / (auto_s / 3600.0)
    per_km = _get(bag, "takeovers_per_km") if bag else None
    if per_km is None and auto_km > 0:
        per_km = count / auto_km
    total_s = float(np.sum(_frame_steps(replay)))
    share = 100.0 * auto_s / total_s if total_s > 0 else math.nan
    groups.append(
        KeyFigureGroup(
            "Takeovers",
            [
                KeyFigure("takeovers", f"{int(count)}", count_source),
                KeyFigure("per hour autonomous", _fmt(per_hour), count_source),
                KeyFigure("per km autonomous", _fmt(per_km), count_source),
                KeyFigure(
                    "time autonomous", f"{_duration(auto_s)} ({_fmt(share, '.0f')} %)", time_source
                ),
                KeyFigure("distance autonomous", _fmt(auto_km, ".2f", "km"), km_source),
            ],
            note="" if bag else "No takeovers.json: counted from output.csv's autonomous flag.",
        )
    )

    # Lateral discomfort.
    groups.append(_discomfort(replay))

    # Agreement with the human.
    agreement = []
    for mode in ("autonomous", "manual"):
        part = replay.metrics.get(mode)
        part = part if isinstance(part, Mapping) else {}
        agreement += [
            KeyFigure(f"MAE {mode}", _fmt(part.get("mae"), ".4f", "1/m"), "metrics.json"),
            KeyFigure(f"RMSE {mode}", _fmt(part.get("rmse"), ".4f", "1/m"), "metrics.json"),
            KeyFigure(f"corr {mode}", _fmt(part.get("corr"), ".3f"), "metrics.json"),
        ]
    groups.append(
        KeyFigureGroup(
            "Replay vs the human",
            agreement,
            note=""
            if replay.has_human
            else "No human curvature label in this replay: agreement metrics are not available.",
        )
    )

    # Replay and model.
    statuses = Counter(str(s) for s in replay.status)
    status_text = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
    kind = model_kind or _get(replay.metrics, "kind", "model_kind", "model_card.kind")
    digest = _model_hash(replay)
    provider = _get(replay.metrics, "provider", "providers", "execution_provider")
    if isinstance(provider, Sequence) and not isinstance(provider, str):
        provider = ", ".join(str(p) for p in provider)
    model = replay.metrics.get("model")
    groups.append(
        KeyFigureGroup(
            "Replay",
            [
                KeyFigure("frames", f"{replay.frames}", status_text),
                KeyFigure("duration", _duration(total_s), "output.csv"),
                KeyFigure("model kind", str(kind) if kind else "n/a", "metrics.json"),
                KeyFigure(
                    "model sha256",
                    digest[:16] if digest else "n/a",
                    Path(str(model)).name if model else "",
                ),
                KeyFigure("provider", str(provider) if provider else "n/a", "metrics.json"),
            ],
        )
    )
    return groups


def _discomfort(replay: Replay) -> KeyFigureGroup:
    doc = replay.discomfort if isinstance(replay.discomfort, Mapping) else None
    sources = _get(doc, "sources") if doc else None
    if isinstance(sources, Sequence) and sources and isinstance(sources[0], Mapping):
        best = max(
            sources, key=lambda s: _float(s.get("samples")) if isinstance(s, Mapping) else -1.0
        )
        lat_limit = _float(_get(doc, "limits.a_lat_mps2"))
        jerk_limit = _float(_get(doc, "limits.jerk_mps3"))
        where = f"discomfort.json, {best.get('source', '?')} ({_get(doc, 'scope') or '?'})"
        return KeyFigureGroup(
            "Lateral discomfort",
            [
                KeyFigure("a_lat RMS", _fmt(best.get("a_lat_rms"), ".2f", "m/s²"), where),
                KeyFigure("a_lat p95", _fmt(best.get("a_lat_p95"), ".2f", "m/s²"), where),
                KeyFigure("a_lat max", _fmt(best.get("a_lat_max"), ".2f", "m/s²"), where),
                KeyFigure(
                    f"share a_lat > {_fmt(lat_limit, '.2f')}",
                    _fmt(100 * _float(best.get("a_lat_over_limit_share")), ".1f", "%"),
                    where,
                ),
                KeyFigure("jerk RMS", _fmt(best.get("jerk_rms"), ".2f", "m/s³"), where),
                KeyFigure("jerk p95", _fmt(best.get("jerk_p95"), ".2f", "m/s³"), where),
                KeyFigure("jerk max", _fmt(best.get("jerk_max"), ".2f", "m/s³"), where),
                KeyFigure(
                    f"share jerk > {_fmt(jerk_limit, '.2f')}",
                    _fmt(100 * _float(best.get("jerk_over_limit_share")), ".1f", "%"),
                    where,
                ),
            ],
            note=f"{len(sources)} source(s) in discomfort.json; the one with most samples shown."
            if len(sources) > 1
            else "",
        )
    # Estimate from the commanded curvature and speed: a_lat = v^2 * curvature.
    flags = debounce(replay.stamp, replay.autonomous)
    a_lat = np.abs(np.square(replay.speed) * replay.curvature)[flags]
    a_lat = a_lat[np.isfinite(a_lat)]
    if a_lat.size == 0:
        return KeyFigureGroup(
            "Lateral discomfort",
            [],
            note="No discomfort.json and no speed with commanded curvature in output.csv: "
            "run `ncp-bag discomfort --json` on the bag to add it.",
        )
    where = "estimate: speed² × commanded curvature"
    return KeyFigureGroup(
        "Lateral discomfort",
        [
            KeyFigure("a_lat RMS", _fmt(np.sqrt(np.mean(a_lat**2)), ".2f", "m/s²"), where),
            KeyFigure("a_lat p95", _fmt(np.percentile(a_lat, 95), ".2f", "m/s²"), where),
            KeyFigure("a_lat max", _fmt(a_lat.max(), ".2f", "m/s²"), where),
            KeyFigure(
                f"share a_lat > {LATERAL_LIMIT_MPS2}",
                _fmt(100 * np.mean(a_lat > LATERAL_LIMIT_MPS2), ".1f", "%"),
                where,
            ),
        ],
        note="No discomfort.json: lateral acceleration estimated from the commanded curvature "
        "(no jerk). Run `ncp-bag discomfort --json` on the bag for measured values.",
    )

"""The report's key figures, in two parts that are never mixed.

* **The recorded drive** (what happened): takeovers from ``takeovers.json`` and lateral
  discomfort from ``discomfort.json`` (the bag tools on the recorded auto-mode flag, GPS,
  odometry, IMU; :mod:`ncp_driver.schemas`); without ``takeovers.json`` the takeovers are
  counted from ``output.csv``'s recorded flag by the same rule.
* **The model in replay** (what the model would have done, open loop): agreement with the
  human from ``metrics.json``, per noise level, and what the replay ran.

Each group says once where its numbers come from and how to read them.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ncp_driver.audit.replay import Replay
from ncp_driver.comfort import LATERAL_LIMIT_MPS2
from ncp_driver.geo import step_lengths_m
from ncp_driver.schemas import Agreement
from ncp_driver.takeover import debounce, find_takeovers

__all__ = [
    "KeyFigure",
    "KeyFigureGroup",
    "TakeoverEvent",
    "model_figures",
    "noise_rows",
    "recording_figures",
    "takeover_events",
]

_MAX_STEP_S = 1.0  # a gap between frames longer than this counts as no driving


@dataclass(frozen=True)
class KeyFigure:
    """One key figure; ``value`` is already formatted with its unit."""

    label: str
    value: str


@dataclass(frozen=True)
class KeyFigureGroup:
    """A titled group of figures; ``source`` says where they come from, ``note`` how to read."""

    title: str
    figures: list[KeyFigure] = field(default_factory=list)
    source: str = ""
    note: str = ""


@dataclass(frozen=True)
class TakeoverEvent:
    stamp: float
    latitude: float
    longitude: float
    speed: float


def _fmt(value: float | int | None, spec: str = ".3g", unit: str = "") -> str:
    if value is None or not math.isfinite(float(value)):
        return "n/a"
    number = float(value)
    if spec == ".3g" and abs(number) >= 1000:
        spec = ",.0f"  # 2,120 rather than 2.12e+03
    return f"{number:{spec}}" + (f" {unit}" if unit else "")


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "n/a"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def frame_steps(replay: Replay) -> np.ndarray:
    """Seconds each frame lasts (to the next frame), 0 across gaps and for the last frame."""
    if replay.frames < 2:
        return np.zeros(replay.frames)
    step = np.diff(replay.stamp)
    step = np.where((step > 0) & (step <= _MAX_STEP_S), step, 0.0)
    return np.concatenate((step, [0.0]))


def takeover_events(replay: Replay) -> list[TakeoverEvent]:
    """Takeovers from takeovers.json, else by the core rule on output.csv's recorded flag."""
    if replay.takeovers is not None:
        return [
            TakeoverEvent(e.stamp, _nan(e.latitude), _nan(e.longitude), _nan(e.speed_mps))
            for e in replay.takeovers.events
        ]
    return [
        TakeoverEvent(
            float(replay.stamp[i]),
            float(replay.latitude[i]),
            float(replay.longitude[i]),
            float(replay.speed[i]),
        )
        for i in find_takeovers(replay.stamp, replay.autonomous)
    ]


def _autonomous_km(replay: Replay, flags: np.ndarray) -> float:
    if replay.has_gps:
        # the step into each frame (0 for the first)
        steps = np.concatenate(([0.0], step_lengths_m(replay.latitude, replay.longitude)))
        both = flags & np.concatenate(([False], flags[:-1]))
        return float(np.sum(steps[both & np.isfinite(steps)])) / 1000.0
    if replay.has_speed:
        return float(np.sum((np.nan_to_num(replay.speed) * frame_steps(replay))[flags])) / 1000.0
    return math.nan


def _takeover_group(replay: Replay) -> KeyFigureGroup:
    doc = replay.takeovers
    total_s = float(np.sum(frame_steps(replay)))
    if doc is not None:
        count, auto_s = doc.takeovers, doc.autonomous_s
        auto_km = _nan(doc.autonomous_km)
        per_hour, per_km = doc.takeovers_per_hour, doc.takeovers_per_km
        total_s = doc.recording_s
        source = (
            f"ncp-bag takeovers on the recorded auto-mode flag ({doc.auto_topic}, debounced "
            f"{doc.min_duration_s:g} s) and GPS: takeovers.json"
        )
    else:
        flags = debounce(replay.stamp, replay.autonomous)
        count = int(find_takeovers(replay.stamp, replay.autonomous).size)
        auto_s = float(np.sum(frame_steps(replay)[flags]))
        auto_km = _autonomous_km(replay, flags)
        per_hour = count / (auto_s / 3600.0) if auto_s > 0 else None
        per_km = count / auto_km if auto_km > 0 else None
        source = "the recorded auto-mode flag in output.csv, by the same rule (no takeovers.json)"
    share = 100.0 * auto_s / total_s if total_s > 0 else math.nan
    return KeyFigureGroup(
        "Takeovers",
        [
            KeyFigure("takeovers", str(int(count))),
            KeyFigure("per hour autonomous", _fmt(per_hour)),
            KeyFigure("per km autonomous", _fmt(per_km)),
            KeyFigure("time autonomous", f"{_duration(auto_s)} ({_fmt(share, '.0f')} %)"),
            KeyFigure("distance autonomous", _fmt(auto_km, ".2f", "km")),
        ],
        source=source,
        note="A takeover is the safety driver taking control back (autonomous to manual): "
        "the paper's crash count. Fewer per hour and per km is better.",
    )


def _discomfort_group(replay: Replay) -> KeyFigureGroup:
    doc = replay.discomfort
    best = doc.main_source() if doc is not None else None
    if doc is None or best is None:
        return KeyFigureGroup(
            "Lateral discomfort",
            [],
            note="No discomfort.json: run `ncp-bag discomfort BAG --json > discomfort.json` "
            "into the replay directory to add the recorded drive's comfort.",
        )
    lat, jerk = doc.limits.a_lat_mps2, doc.limits.jerk_mps3
    share_lat = None if best.a_lat_over_limit_share is None else 100 * best.a_lat_over_limit_share
    share_jerk = None if best.jerk_over_limit_share is None else 100 * best.jerk_over_limit_share
    others = f"; {len(doc.sources)} sources, the one with most samples shown" * (
        len(doc.sources) > 1
    )
    return KeyFigureGroup(
        f"Lateral discomfort ({doc.scope})",
        [
            KeyFigure("|a_lat| RMS", _fmt(best.a_lat_rms, ".2f", "m/s²")),
            KeyFigure("|a_lat| 95th percentile", _fmt(best.a_lat_p95, ".2f", "m/s²")),
            KeyFigure("|a_lat| max", _fmt(best.a_lat_max, ".2f", "m/s²")),
            KeyFigure(f"time with |a_lat| > {lat:g} m/s²", _fmt(share_lat, ".1f", "%")),
            KeyFigure("|jerk| RMS", _fmt(best.jerk_rms, ".2f", "m/s³")),
            KeyFigure("|jerk| 95th percentile", _fmt(best.jerk_p95, ".2f", "m/s³")),
            KeyFigure(f"time with |jerk| > {jerk:g} m/s³", _fmt(share_jerk, ".1f", "%")),
        ],
        source=f"ncp-bag discomfort on the recording's {best.source} ({best.topic}): "
        f"discomfort.json{others}",
        note=f"How hard the recorded car moved sideways. The limits are nuPlan's comfort limits "
        f"({lat:g} m/s², {jerk:g} m/s³); lower is more comfortable.",
    )


def recording_figures(replay: Replay) -> list[KeyFigureGroup]:
    """What happened on the recorded drive (flag, GPS, odometry, IMU), not the model."""
    return [_takeover_group(replay), _discomfort_group(replay)]


def _agreement(part: Agreement) -> list[KeyFigure]:
    return [
        KeyFigure("MAE", _fmt(part.mae, ".4f", "1/m")),
        KeyFigure("RMSE", _fmt(part.rmse, ".4f", "1/m")),
        KeyFigure("correlation", _fmt(part.corr, ".3f")),
        KeyFigure("frames", str(part.frames)),
    ]


def _commanded_lateral(replay: Replay) -> KeyFigureGroup | None:
    flags = debounce(replay.stamp, replay.autonomous)
    a_lat = np.abs(np.square(replay.speed) * replay.curvature)[flags]
    a_lat = a_lat[np.isfinite(a_lat)]
    if a_lat.size == 0:
        return None
    return KeyFigureGroup(
        "Lateral acceleration the commands ask for",
        [
            KeyFigure("RMS", _fmt(float(np.sqrt(np.mean(a_lat**2))), ".2f", "m/s²")),
            KeyFigure("max", _fmt(float(a_lat.max()), ".2f", "m/s²")),
            KeyFigure(
                f"frames > {LATERAL_LIMIT_MPS2:g} m/s²",
                _fmt(100 * float(np.mean(a_lat > LATERAL_LIMIT_MPS2)), ".1f", "%"),
            ),
        ],
        source="speed² × commanded curvature over the autonomous frames of output.csv",
        note="What the model's commands would impose at the recorded speed: compare with "
        "the recorded drive's lateral discomfort.",
    )


def model_figures(replay: Replay, model_kind: str | None = None) -> list[KeyFigureGroup]:
    """What the model would have done on the recorded frames (the replay), per mode."""
    m = replay.metrics
    groups = []
    if replay.has_human:
        groups.append(
            KeyFigureGroup(
                "Agreement with the human, autonomous stretches",
                _agreement(m.autonomous),
                source="metrics.json: the model's output (before limits) against the human's "
                "curvature from the recorded steering",
                note="The stretches the model was meant to drive. Lower MAE / RMSE and a "
                "correlation near 1 are better.",
            )
        )
        reset = m.manual_mode == "reset"
        groups.append(
            KeyFigureGroup(
                "Agreement in manual stretches" + (" (no memory)" if reset else ""),
                _agreement(m.manual),
                source="metrics.json",
                note=(
                    "As on the car (manual_mode=reset), the state is reset on every manual "
                    "frame: the model sees each frame without memory, so its output there is a "
                    "flat staircase. These figures rate a memory-less model, not the one that "
                    "would drive; replay with --param manual_mode=shadow to keep the state."
                )
                if reset
                else "manual_mode=shadow: the state runs on through manual driving, as if "
                "the model had been driving.",
            )
        )
    lateral = _commanded_lateral(replay)
    if lateral is not None:
        groups.append(lateral)
    statuses = Counter(str(s) for s in replay.status)
    kind = model_kind or m.kind
    groups.append(
        KeyFigureGroup(
            "The replay",
            [
                KeyFigure("frames", f"{replay.frames}"),
                KeyFigure(
                    "frame statuses", ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
                ),
                KeyFigure("duration", _duration(float(np.sum(frame_steps(replay))))),
                KeyFigure("model", f"{kind or 'n/a'} ({m.model.rsplit('/', 1)[-1]})"),
                KeyFigure("model sha256", m.model_sha256[:16] if m.model_sha256 else "n/a"),
                KeyFigure("run", f"{m.mode}, {m.provider}"),
            ],
            source="metrics.json and output.csv",
        )
    )
    return groups


def noise_rows(replay: Replay) -> list[tuple[str, Agreement, Agreement]]:
    """(noise std, autonomous, all) per level, the clean replay first; empty without noise."""
    m = replay.metrics
    if not m.noise:
        return []
    rows = [("0 (clean)", m.autonomous, m.all)]
    for level, parts in sorted(m.noise.items(), key=lambda item: float(item[0])):
        rows.append((level, parts["autonomous"], parts["all"]))
    return rows

"""The closed-loop figures of a run and of a set of runs: takeovers, distance, rates, comfort.

Takeovers are counted by :func:`ncp_driver.takeover.find_takeovers` on the auto-mode flag as
recorded (``mode_hz`` samples), exactly as ``ncp-bag takeovers`` counts them in the run's bag.
Distance and time driven autonomously come from the true vehicle state at every tick; lateral
acceleration and jerk from its odometry with the bag tools' discomfort definition
(:mod:`ncp_driver.bags.motion`, :mod:`ncp_driver.bags.discomfort`) over the autonomous stretches.
Rates carry exact (Garwood) 95 % Poisson intervals.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ncp_driver.bags.discomfort import discomfort_report
from ncp_driver.bags.modes import ModeTimeline
from ncp_driver.bags.motion import MotionSettings, from_odometry
from ncp_driver.sim.loop import RunRecord
from ncp_driver.takeover import DEFAULT_MIN_DURATION_S, find_takeovers

__all__ = ["flag_samples", "odometry_samples", "poisson_interval", "run_figures", "summarise"]


def flag_samples(run: RunRecord, hz: float) -> tuple[np.ndarray, np.ndarray]:
    """(ns after the start, flag) at ``hz``: the auto-mode topic as published."""
    end = int(run.tick_ns[-1])
    stamps = np.round(np.arange(0, end * 1e-9 * hz + 1e-9) * (1e9 / hz)).astype(np.int64)
    stamps = stamps[stamps <= end]
    held = np.clip(np.searchsorted(run.tick_ns, stamps, side="right") - 1, 0, None)
    return stamps, run.auto[held]


def odometry_samples(run: RunRecord, hz: float) -> dict[str, np.ndarray]:
    """The true vehicle state at ``hz``: ns after the start, x, y, heading, speed, yaw rate."""
    end = int(run.tick_ns[-1])
    stamps = np.round(np.arange(0, end * 1e-9 * hz + 1e-9) * (1e9 / hz)).astype(np.int64)
    stamps = stamps[stamps <= end]
    t, q = run.tick_ns.astype(np.float64), stamps.astype(np.float64)
    held = np.clip(np.searchsorted(run.tick_ns, stamps, side="right") - 1, 0, None)
    speed = np.interp(q, t, run.speed)
    return {
        "ns": stamps,
        "x": np.interp(q, t, run.x),
        "y": np.interp(q, t, run.y),
        "heading": np.interp(q, t, run.heading),
        "speed": speed,
        "yaw_rate": speed * run.curvature[held],
    }


def poisson_interval(count: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) interval of a Poisson mean from an observed ``count``."""
    alpha = 1.0 - confidence

    def cdf(k: int, mu: float) -> float:  # P(X <= k)
        if mu == 0:
            return 1.0
        term = math.exp(-mu)
        total = term
        for i in range(1, k + 1):
            term *= mu / i
            total += term
        return min(total, 1.0)

    def solve(k: int, target: float) -> float:  # mu with cdf(k, mu) = target (decreasing in mu)
        lo, hi = 0.0, max(10.0, 4.0 * (k + 1) + 10.0)
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if cdf(k, mid) > target:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)

    lower = 0.0 if count == 0 else solve(count - 1, 1.0 - alpha / 2)
    return lower, solve(count, alpha / 2)


def run_figures(run: RunRecord, mode_hz: float, odometry_hz: float) -> dict[str, Any]:
    """The figures of one closed-loop drive (JSON-able)."""
    flag_ns, flags = flag_samples(run, mode_hz)
    takeovers = find_takeovers(flag_ns * 1e-9, flags, DEFAULT_MIN_DURATION_S)
    step = np.hypot(np.diff(run.x), np.diff(run.y))
    auto_steps = run.auto[:-1]
    auto_m = float(step[auto_steps].sum())
    dt = float(np.diff(run.tick_ns).mean()) * 1e-9 if run.tick_ns.size > 1 else 0.0
    offsets = np.abs(run.lateral_error[run.auto])
    odo = odometry_samples(run, odometry_hz)
    odo_t = (run.start_ns + odo["ns"]) * 1e-9
    settings = MotionSettings()
    motion = from_odometry(odo_t, odo["speed"], odo["yaw_rate"], settings)
    timeline = ModeTimeline.from_flag(
        (run.start_ns + flag_ns) * 1e-9, flags, odo_t[-1], DEFAULT_MIN_DURATION_S
    )
    comfort = discomfort_report([(motion, "odometry")], timeline, [], settings).sources[0]
    takeover_ns = flag_ns[takeovers]
    held = np.clip(np.searchsorted(run.tick_ns, takeover_ns, side="right") - 1, 0, None)
    return {
        "road_seed": run.world.config.seed,
        "distance_m": round(float(step.sum()), 3),
        "autonomous_m": round(auto_m, 3),
        "autonomous_s": round(float(auto_steps.sum()) * dt, 3),
        "takeovers": int(takeovers.size),
        "takeover_times_s": [round(float(t) * 1e-9, 3) for t in takeover_ns],
        "takeover_road_s_m": [round(float(run.road_s[i]), 2) for i in held],
        "lateral_offset_mean_m": _round(float(offsets.mean())) if offsets.size else None,
        "lateral_offset_max_m": _round(float(offsets.max())) if offsets.size else None,
        "a_lat_rms": _round(comfort.a_lat_rms),
        "a_lat_p95": _round(comfort.a_lat_p95),
        "a_lat_max": _round(comfort.a_lat_max),
        "jerk_rms": _round(comfort.jerk_rms),
        "jerk_p95": _round(comfort.jerk_p95),
        "jerk_max": _round(comfort.jerk_max),
        "frames": run.frame_count,
        "frame_statuses": {
            str(getattr(s, "value", s)): run.frames.status.count(s)
            for s in sorted(set(run.frames.status))
        },
    }


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over roads of one model at one noise level, with 95 % Poisson intervals."""
    count = sum(r["takeovers"] for r in runs)
    metres = sum(r["autonomous_m"] for r in runs)
    seconds = sum(r["autonomous_s"] for r in runs)
    lo, hi = poisson_interval(count)
    km = metres / 1000.0
    mean_offsets = [
        r["lateral_offset_mean_m"] for r in runs if r["lateral_offset_mean_m"] is not None
    ]
    max_offsets = [r["lateral_offset_max_m"] for r in runs if r["lateral_offset_max_m"] is not None]

    def rate(x: float, per: float = 1.0) -> float | None:
        return round(x / km * per, 6) if km > 0 else None

    def weighted(key: str) -> float | None:
        pairs = [(r[key], r["autonomous_s"]) for r in runs if r[key] is not None]
        total = sum(w for _, w in pairs)
        return round(sum(v * w for v, w in pairs) / total, 6) if total > 0 else None

    def worst(key: str) -> float | None:
        values = [r[key] for r in runs if r[key] is not None]
        return max(values) if values else None

    return {
        "roads": len(runs),
        "takeovers": count,
        "autonomous_km": round(km, 6),
        "autonomous_s": round(seconds, 3),
        "takeovers_per_km": rate(count),
        "takeovers_per_km_95": [rate(lo), rate(hi)],
        "takeovers_per_100km": rate(count, 100.0),
        "takeovers_per_100km_95": [rate(lo, 100.0), rate(hi, 100.0)],
        "lateral_offset_mean_m": weighted("lateral_offset_mean_m") if mean_offsets else None,
        "lateral_offset_max_m": max(max_offsets) if max_offsets else None,
        "a_lat_rms": weighted("a_lat_rms"),
        "a_lat_max": worst("a_lat_max"),
        "jerk_rms": weighted("jerk_rms"),
        "jerk_max": worst("jerk_max"),
    }

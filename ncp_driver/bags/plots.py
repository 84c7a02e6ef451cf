"""PNG figures: the GPS track coloured by mode with takeovers marked; discomfort over time.

matplotlib runs headless (Agg); files are written atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver.bags.modes import ModeTimeline
from ncp_driver.bags.motion import Motion
from ncp_driver.bags.output import atomic_file
from ncp_driver.bags.takeovers import TakeoverReport
from ncp_driver.comfort import JERK_LIMIT_MPS3, LATERAL_LIMIT_MPS2
from ncp_driver.geo import to_local_m

__all__ = ["plot_discomfort", "plot_takeover_map"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path, force: bool) -> Path:
    plt = _pyplot()
    try:
        with atomic_file(path, force) as tmp:
            fig.savefig(tmp, format="png", dpi=120)
    finally:
        plt.close(fig)
    return path


def plot_takeover_map(
    path: Path,
    report: TakeoverReport,
    gps_t: np.ndarray,
    latitude: np.ndarray,
    longitude: np.ndarray,
    timeline: ModeTimeline,
    force: bool = False,
) -> Path:
    """The GPS track in local metres, autonomous stretches green, manual grey, takeovers red X."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 8))
    if latitude.size:
        origin = (float(latitude[0]), float(longitude[0]))
        east, north = to_local_m(latitude, longitude, origin)
        auto = timeline.at(gps_t)
        for flag, colour, label in ((False, "0.6", "manual"), (True, "tab:green", "autonomous")):
            seg_e = np.where(auto == flag, east, np.nan)
            seg_n = np.where(auto == flag, north, np.nan)
            ax.plot(seg_e, seg_n, color=colour, lw=2 if flag else 1.2, label=label)
        for event in report.takeovers:
            if event.latitude is None or event.longitude is None:
                continue
            e, n = to_local_m(np.array([event.latitude]), np.array([event.longitude]), origin)
            ax.plot(e, n, "x", color="tab:red", ms=12, mew=3)
            ax.annotate(str(event.number), (e[0], n[0]), textcoords="offset points", xytext=(6, 6))
        ax.plot([], [], "x", color="tab:red", ms=10, mew=3, label="takeover")
        ax.set_aspect("equal", adjustable="datalim")
        ax.legend(loc="best")
        ax.set_xlabel(f"east (m) from {origin[0]:.6f}, {origin[1]:.6f}")
        ax.set_ylabel("north (m)")
    else:
        ax.text(0.5, 0.5, "no GPS fixes", ha="center", va="center", transform=ax.transAxes)
    per_km = "-" if report.per_km is None else f"{report.per_km:.2f}"
    ax.set_title(
        f"{report.count} takeover(s), {report.autonomous_s / 60:.1f} min autonomous, "
        f"{per_km} per km"
    )
    ax.grid(True, alpha=0.3)
    return _save(fig, path, force)


def plot_discomfort(
    path: Path,
    sources: list[tuple[Motion, str]],
    timeline: ModeTimeline | None,
    start_s: float,
    force: bool = False,
) -> Path:
    """Lateral acceleration and jerk of each source over time; autonomous stretches shaded."""
    plt = _pyplot()
    fig, (ax_a, ax_j) = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    for motion, topic in sources:
        t = motion.t - start_s
        a = np.where(motion.moving, motion.a_lat, np.nan)
        j = np.where(motion.moving, motion.jerk, np.nan)
        ax_a.plot(t, a, lw=1, label=f"{motion.source} ({topic})")
        ax_j.plot(t, j, lw=1, label=f"{motion.source} ({topic})")
    for ax, limit, unit in ((ax_a, LATERAL_LIMIT_MPS2, "m/s²"), (ax_j, JERK_LIMIT_MPS3, "m/s³")):
        ax.axhline(limit, color="tab:red", ls="--", lw=1)
        ax.axhline(-limit, color="tab:red", ls="--", lw=1)
        if timeline is not None:
            for auto, t0, t1 in timeline.segments():
                if auto:
                    ax.axvspan(t0 - start_s, t1 - start_s, color="tab:green", alpha=0.12)
        ax.grid(True, alpha=0.3)
        ax.set_ylabel(unit)
    ax_a.set_title("lateral acceleration (nuPlan limit dashed; autonomous shaded)")
    ax_j.set_title("lateral jerk")
    ax_j.set_xlabel("time since start (s)")
    if sources:
        ax_a.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return _save(fig, path, force)

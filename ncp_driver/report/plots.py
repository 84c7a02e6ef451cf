"""The report's own plots: curvature over time and the GPS track by driving mode."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from ncp_driver.audit.figures import new_figure, shade_spans
from ncp_driver.audit.replay import Replay
from ncp_driver.geo import to_local_m, track_origin
from ncp_driver.report.summary import TakeoverEvent

__all__ = ["plot_curvature", "plot_track"]


def plot_curvature(replay: Replay, takeovers: Sequence[TakeoverEvent]) -> Figure:
    """Model output, commanded and human curvature over time; autonomous shaded, takeovers."""
    fig = new_figure(11.0, 4.2)
    ax = fig.subplots()
    t0 = replay.stamp[0] if replay.frames else 0.0
    t = replay.stamp - t0
    shade_spans(ax, t, replay.autonomous)
    if replay.has_human:
        ax.plot(t, replay.human_curvature, color="black", lw=1.2, label="human")
    # The model output drawn wide underneath, so it shows where the limits leave it unchanged.
    ax.plot(t, replay.raw_curvature, color="tab:blue", lw=2.4, alpha=0.45, label="model output")
    ax.plot(t, replay.curvature, color="tab:orange", lw=0.9, label="commanded")
    for k, event in enumerate(takeovers):
        ax.axvline(
            event.stamp - t0, color="tab:red", lw=1.2, ls="--", label="takeover" if k == 0 else None
        )
    ax.axhline(0.0, color="0.6", lw=0.5)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("curvature (1/m, + = left)")
    ax.legend(loc="upper right", fontsize=8, ncols=5)
    ax.set_title("Prediction vs human curvature")
    return fig


def plot_track(replay: Replay, takeovers: Sequence[TakeoverEvent]) -> Figure:
    """The GPS track coloured by mode (autonomous green, manual grey), takeovers marked."""
    origin = track_origin(replay.latitude, replay.longitude)
    east, north = to_local_m(replay.latitude, replay.longitude, origin)
    fig = new_figure(6.5, 6.0)
    ax = fig.subplots()
    for mask, colour, label in (
        (~replay.autonomous, "0.55", "manual"),
        (replay.autonomous, "tab:green", "autonomous"),
    ):
        ax.scatter(east[mask], north[mask], s=5, color=colour, lw=0, label=label)
    ok = np.flatnonzero(np.isfinite(east))
    if ok.size:
        ax.plot(east[ok[0]], north[ok[0]], "k^", ms=8, label="start")
    lat = np.array([e.latitude for e in takeovers])
    lon = np.array([e.longitude for e in takeovers])
    if lat.size and origin is not None:
        te, tn = to_local_m(lat, lon, origin)
        ax.scatter(
            te, tn, marker="X", s=90, color="tab:red", edgecolor="white", zorder=5, label="takeover"
        )
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("east (m)")
    ax.set_ylabel("north (m)")
    ax.legend(loc="best", fontsize=8)
    ax.set_title("Track by driving mode")
    return fig

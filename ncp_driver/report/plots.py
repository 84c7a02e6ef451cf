"""The report's own plots: curvature over time and the GPS track by driving mode."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from ncp_driver.audit.figures import new_figure
from ncp_driver.audit.replay import Replay
from ncp_driver.geo import to_local_m, track_origin
from ncp_driver.replay.plot import plot_prediction
from ncp_driver.report.summary import TakeoverEvent

__all__ = ["plot_curvature", "plot_track"]


def plot_curvature(replay: Replay, takeovers: Sequence[TakeoverEvent]) -> Figure:
    """The replay's prediction plot (:func:`ncp_driver.replay.plot.plot_prediction`) of a
    replay directory, with the takeovers the report counts."""
    return plot_prediction(
        replay.stamp,
        replay.autonomous,
        replay.raw_curvature,
        replay.curvature,
        replay.human_curvature if replay.has_human else None,
        [event.stamp for event in takeovers],
    )


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

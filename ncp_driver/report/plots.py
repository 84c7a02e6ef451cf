"""The report's own plots: curvature over time, the GPS track by mode, metrics under noise.

Colours mean the same in every figure (:mod:`ncp_driver.audit.figures`): human black, model
blue, commanded orange, takeovers red, autonomous green. Legends sit above the axes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from ncp_driver.audit.figures import (
    AUTONOMOUS_TRACK_COLOUR,
    MANUAL_COLOUR,
    MODEL_COLOUR,
    TAKEOVER_COLOUR,
    legend_above,
    new_figure,
)
from ncp_driver.audit.replay import Replay
from ncp_driver.geo import to_local_m, track_origin
from ncp_driver.replay.plot import plot_prediction
from ncp_driver.report.summary import TakeoverEvent
from ncp_driver.schemas import Agreement

__all__ = ["plot_curvature", "plot_noise_metrics", "plot_track"]


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
    fig = new_figure(*_track_size(east, north))
    ax = fig.subplots()
    for mask, colour, label in (
        (~replay.autonomous, MANUAL_COLOUR, "manual"),
        (replay.autonomous, AUTONOMOUS_TRACK_COLOUR, "autonomous"),
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
            te,
            tn,
            marker="X",
            s=90,
            color=TAKEOVER_COLOUR,
            edgecolor="white",
            zorder=5,
            label="takeover",
        )
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("east (m)")
    ax.set_ylabel("north (m)")
    legend_above(ax, ncols=4)
    return fig


def _track_size(east: np.ndarray, north: np.ndarray) -> tuple[float, float]:
    """Figure inches that fit the track's extent (equal axes) without empty bands."""
    ok = np.isfinite(east) & np.isfinite(north)
    if not ok.any():
        return 6.5, 5.0
    width = float(np.ptp(east[ok])) or 1.0
    height = float(np.ptp(north[ok])) or 1.0
    if height > width:
        return float(np.clip(6.5 * width / height + 1.2, 4.0, 6.5)), 6.5
    return 7.5, float(np.clip(7.5 * height / width + 1.4, 3.2, 7.5))


def plot_noise_metrics(rows: Sequence[tuple[str, Agreement, Agreement]]) -> Figure:
    """MAE and correlation per noise level (the clean replay at 0), autonomous and all frames."""
    levels = np.array([0.0 if " " in level else float(level) for level, _, _ in rows])
    fig = new_figure(9.0, 3.4)
    mae_ax, corr_ax = fig.subplots(1, 2)
    for k, (label, style) in enumerate((("autonomous frames", "o-"), ("all frames", "s--"))):
        parts = [auto if k == 0 else everything for _, auto, everything in rows]
        mae = [np.nan if p.mae is None else p.mae for p in parts]
        corr = [np.nan if p.corr is None else p.corr for p in parts]
        alpha = 1.0 - 0.4 * k
        mae_ax.plot(levels, mae, style, color=MODEL_COLOUR, ms=4, alpha=alpha, label=label)
        corr_ax.plot(levels, corr, style, color=MODEL_COLOUR, ms=4, alpha=alpha, label=label)
    mae_ax.set_xlabel("noise std (on the [0, 1] image)")
    mae_ax.set_ylabel("MAE (1/m)")
    corr_ax.set_xlabel("noise std (on the [0, 1] image)")
    corr_ax.set_ylabel("correlation with the human")
    legend_above(mae_ax)  # the same two lines in both panels: one legend
    return fig

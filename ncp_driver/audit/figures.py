"""Drawing helpers shared by the analyses: coloured road traces; figures and shaded mode spans
are :mod:`ncp_driver.replay.plot`'s (re-exported here)."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ncp_driver.replay.plot import AUTONOMOUS_COLOUR, new_figure, shade_spans, spans

__all__ = ["AUTONOMOUS_COLOUR", "draw_track", "new_figure", "shade_spans", "spans"]


def draw_track(
    fig: Figure,
    ax: Axes,
    east: np.ndarray,
    north: np.ndarray,
    values: np.ndarray,
    label: str,
    cmap: str = "coolwarm",
    symmetric: bool = False,
) -> None:
    """Scatter the road trace (metres) coloured by ``values``, with a colour bar."""
    ok = np.isfinite(east) & np.isfinite(north) & np.isfinite(values)
    ax.plot(east[np.isfinite(east)], north[np.isfinite(north)], color="0.85", lw=3, zorder=0)
    vmin = vmax = None
    if symmetric and np.any(ok):
        vmax = float(np.max(np.abs(values[ok]))) or 1.0
        vmin = -vmax
    points = ax.scatter(
        east[ok], north[ok], c=values[ok], s=6, cmap=cmap, vmin=vmin, vmax=vmax, lw=0
    )
    fig.colorbar(points, ax=ax, label=label, shrink=0.8)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("east (m)")
    ax.set_ylabel("north (m)")

"""Drawing helpers shared by the analyses: figures, shaded mode spans, coloured road traces."""

from __future__ import annotations

import itertools

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = [
    "AUTONOMOUS_COLOUR",
    "COMMANDED_COLOUR",
    "HUMAN_COLOUR",
    "MANUAL_COLOUR",
    "MODEL_COLOUR",
    "TAKEOVER_COLOUR",
    "draw_track",
    "legend_above",
    "new_figure",
    "shade_spans",
    "spans",
]

# One colour per meaning, in every figure of the report and the analyses.
AUTONOMOUS_COLOUR = "#cfe8cf"  # background of autonomous stretches
AUTONOMOUS_TRACK_COLOUR = "tab:green"
MANUAL_COLOUR = "0.55"
HUMAN_COLOUR = "black"
MODEL_COLOUR = "tab:blue"
COMMANDED_COLOUR = "tab:orange"
TAKEOVER_COLOUR = "tab:red"


def legend_above(ax: Axes, ncols: int = 6, fontsize: float = 8) -> None:
    """The axes' legend in one row above them, outside the plotted area (covers no data)."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(
            handles,
            labels,
            loc="lower left",
            bbox_to_anchor=(0.0, 1.01, 1.0, 0.1),
            mode="expand",
            ncols=min(ncols, len(handles)),
            fontsize=fontsize,
            frameon=False,
            borderaxespad=0.0,
        )


def new_figure(width: float = 10.0, height: float = 4.0) -> Figure:
    """A figure on matplotlib's Agg canvas (no GUI backend, no global pyplot state)."""
    return Figure(figsize=(width, height), layout="constrained")


def spans(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` index ranges where ``mask`` is true."""
    flags = np.asarray(mask, dtype=bool)
    if flags.size == 0:
        return []
    edges = np.flatnonzero(np.diff(flags.astype(np.int8))) + 1
    bounds = np.concatenate(([0], edges, [flags.size]))
    return [(int(a), int(b)) for a, b in itertools.pairwise(bounds) if flags[a]]


def shade_spans(
    ax: Axes,
    t: np.ndarray,
    mask: np.ndarray,
    colour: str = AUTONOMOUS_COLOUR,
    label: str | None = "autonomous",
) -> None:
    """Shade the x ranges of ``t`` where ``mask`` holds (each span to the next sample)."""
    for k, (a, b) in enumerate(spans(mask)):
        end = t[b] if b < t.size else t[-1]
        ax.axvspan(t[a], end, color=colour, lw=0, zorder=0, label=label if k == 0 else None)


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

"""The replay's plot (``prediction.png``), and the figure helpers the audit and report share.

The replay is drawn here, below the audit and the report in the layering, so that the replay
needs neither (they import this: the report's curvature plot is this one).
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = [
    "AUTONOMOUS_COLOUR",
    "figure_png",
    "new_figure",
    "plot_prediction",
    "shade_spans",
    "spans",
]

AUTONOMOUS_COLOUR = "#cfe8cf"


def new_figure(width: float = 10.0, height: float = 4.0) -> Figure:
    """A figure on matplotlib's Agg canvas (no GUI backend, no global pyplot state)."""
    return Figure(figsize=(width, height), layout="constrained")


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


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


def plot_prediction(
    stamp: np.ndarray,
    autonomous: np.ndarray,
    raw_curvature: np.ndarray,
    curvature: np.ndarray,
    human_curvature: np.ndarray | None,
    takeover_stamps: Sequence[float] = (),
) -> Figure:
    """Model output, commanded and human curvature over time; autonomous shaded, takeovers."""
    fig = new_figure(11.0, 4.2)
    ax = fig.subplots()
    t0 = stamp[0] if stamp.size else 0.0
    t = stamp - t0
    shade_spans(ax, t, autonomous)
    if human_curvature is not None:
        ax.plot(t, human_curvature, color="black", lw=1.2, label="human")
    # The model output drawn wide underneath, so it shows where the limits leave it unchanged.
    ax.plot(t, raw_curvature, color="tab:blue", lw=2.4, alpha=0.45, label="model output")
    ax.plot(t, curvature, color="tab:orange", lw=0.9, label="commanded")
    for k, at in enumerate(takeover_stamps):
        ax.axvline(at - t0, color="tab:red", lw=1.2, ls="--", label="takeover" if k == 0 else None)
    ax.axhline(0.0, color="0.6", lw=0.5)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("curvature (1/m, + = left)")
    ax.legend(loc="upper right", fontsize=8, ncols=5)
    ax.set_title("Prediction vs human curvature")
    return fig

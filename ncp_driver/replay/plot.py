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
    "AUTONOMOUS_TRACK_COLOUR",
    "COMMANDED_COLOUR",
    "HUMAN_COLOUR",
    "MANUAL_COLOUR",
    "MODEL_COLOUR",
    "TAKEOVER_COLOUR",
    "figure_png",
    "legend_above",
    "new_figure",
    "plot_prediction",
    "shade_spans",
    "spans",
]

# One colour per meaning, in every figure of the replay, the report and the analyses.
AUTONOMOUS_COLOUR = "#cfe8cf"  # background of autonomous stretches
AUTONOMOUS_TRACK_COLOUR = "tab:green"
MANUAL_COLOUR = "0.55"
HUMAN_COLOUR = "black"
MODEL_COLOUR = "tab:blue"
COMMANDED_COLOUR = "tab:orange"
TAKEOVER_COLOUR = "tab:red"
_COMMAND_EVERY = 5  # commanded values as dots on every fifth frame: the model line shows through


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
    """Human, model output and commanded curvature over time; autonomous shaded, takeovers.

    The commanded values are dots on every fifth frame, so they never hide the model's line:
    where they sit on it, no limit acted.
    """
    fig = new_figure(11.0, 4.4)
    ax = fig.subplots()
    t0 = stamp[0] if stamp.size else 0.0
    t = stamp - t0
    shade_spans(ax, t, autonomous, label="autonomous (recorded)")
    if human_curvature is not None:
        ax.plot(t, human_curvature, color=HUMAN_COLOUR, lw=1.3, label="human")
    ax.plot(t, raw_curvature, color=MODEL_COLOUR, lw=1.3, label="model output")
    every = slice(None, None, _COMMAND_EVERY)
    ax.plot(
        t[every],
        curvature[every],
        ls="none",
        marker="o",
        ms=2.5,
        color=COMMANDED_COLOUR,
        label="commanded (after limits)",
    )
    for k, at in enumerate(takeover_stamps):
        ax.axvline(
            at - t0, color=TAKEOVER_COLOUR, lw=1.2, ls="--", label="takeover" if k == 0 else None
        )
    ax.axhline(0.0, color="0.6", lw=0.5)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("curvature (1/m, + = left)")
    ax.margins(x=0.01)
    legend_above(ax)
    return fig

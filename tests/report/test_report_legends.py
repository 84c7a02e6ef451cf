"""No legend covers plotted data in the report's main figures (from matplotlib's own boxes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from ncp_driver.audit import load_replay
from ncp_driver.audit.neurons import neuron_layout, plot_neuron_activity
from ncp_driver.audit.pca import pca, plot_pca
from ncp_driver.report.plots import plot_curvature, plot_noise_metrics, plot_track
from ncp_driver.report.summary import noise_rows, takeover_events


def _data_points(ax: Axes) -> np.ndarray:
    """Every plotted point of ``ax`` in display coordinates (lines and scatter offsets)."""
    parts = []
    for line in ax.get_lines():
        xy = np.asarray(line.get_xydata(), dtype=float)
        if xy.size:
            parts.append(line.get_transform().transform(xy))
    for collection in ax.collections:
        offsets = np.asarray(collection.get_offsets(), dtype=float)
        if offsets.size:
            parts.append(collection.get_offset_transform().transform(offsets))
    points = np.concatenate(parts) if parts else np.empty((0, 2))
    return points[np.all(np.isfinite(points), axis=1)]


def legend_problems(fig: Figure) -> list[str]:
    """Legends that overlap their axes and cover at least one data point."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    problems = []
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        box: Bbox = legend.get_window_extent(renderer)
        area: Bbox = ax.get_window_extent(renderer)
        if not box.overlaps(area):
            continue  # outside the axes: it covers nothing
        points = _data_points(ax)
        inside = (
            (points[:, 0] >= box.x0)
            & (points[:, 0] <= box.x1)
            & (points[:, 1] >= box.y0)
            & (points[:, 1] <= box.y1)
        )
        if inside.any():
            problems.append(f"{ax.get_title() or ax.get_ylabel()}: {int(inside.sum())} points")
    return problems


def test_the_checker_sees_a_legend_on_the_data() -> None:
    fig = Figure(figsize=(4, 3))
    ax = fig.subplots()
    x = np.linspace(0, 1, 200)
    ax.plot(x, np.ones_like(x), label="flat at the top")
    ax.plot(x, x, label="rising")
    ax.legend(loc="upper right")
    assert legend_problems(fig)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.02))
    assert legend_problems(fig) == []


@pytest.mark.parametrize("name", ["curvature", "track", "neurons", "pca", "noise"])
def test_no_legend_covers_data_in_the_main_figures(real_replay: Path, name: str) -> None:
    replay = load_replay(real_replay)
    trace = replay.require_neurons()
    mode = replay.mode_at(trace.stamp)
    figures = {
        "curvature": lambda: plot_curvature(replay, takeover_events(replay)),
        "track": lambda: plot_track(replay, takeover_events(replay)),
        "neurons": lambda: plot_neuron_activity(
            trace, neuron_layout(None, trace.width), autonomous=mode
        ),
        "pca": lambda: plot_pca(pca(trace.values), trace.stamp, autonomous=mode),
        "noise": lambda: plot_noise_metrics(noise_rows(replay)),
    }
    fig = figures[name]()
    assert any(ax.get_legend() is not None for ax in fig.axes)  # the test checks something
    assert legend_problems(fig) == []

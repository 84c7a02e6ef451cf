"""Neuron activity over time and on the road (the paper's neuron-activity figures).

Which column of ``neurons.csv`` is which neuron comes from the wiring JSON in the model's
metadata (``ncp_driver.wiring``: ``layers`` = ``{"motor": [...], "command": [...], "inter":
[...]}``); without it the columns are plain hidden units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ncp_driver.audit.errors import AuditError
from ncp_driver.audit.figures import draw_track, new_figure, shade_spans
from ncp_driver.audit.replay import Replay, Trace
from ncp_driver.geo import to_local_m, track_origin

__all__ = [
    "LAYER_ORDER",
    "NeuronLayout",
    "neuron_layout",
    "plot_neuron_activity",
    "plot_neurons_on_track",
    "salient_neurons",
]

LAYER_ORDER = ("motor", "command", "inter", "hidden")
_LAYER_SHORT = {"motor": "motor", "command": "cmd", "inter": "inter", "hidden": "h"}


@dataclass(frozen=True)
class NeuronLayout:
    """Per column of the ``neurons`` output: its layer and a label such as ``cmd 3``."""

    layers: tuple[str, ...]
    labels: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.layers)

    def of_layer(self, layer: str) -> list[int]:
        return [i for i, name in enumerate(self.layers) if name == layer]

    def display_order(self) -> list[int]:
        """Columns sorted motor, command, inter (then others), each by index."""
        rank = {name: k for k, name in enumerate(LAYER_ORDER)}
        return sorted(range(self.count), key=lambda i: (rank.get(self.layers[i], 99), i))


def neuron_layout(wiring: Mapping[str, Any] | None, count: int) -> NeuronLayout:
    """The layout of ``count`` neuron columns from the model's wiring JSON (or plain units)."""
    layers = ["hidden"] * count
    groups = (wiring or {}).get("layers")
    if isinstance(groups, Mapping):
        seen: set[int] = set()
        for layer, ids in groups.items():
            for neuron in ids or ():
                index = int(neuron)
                if not 0 <= index < count or index in seen:
                    raise AuditError(
                        f"the wiring puts neuron {index} in layer {layer!r}, but the replay has "
                        f"{count} neuron columns (or lists it twice): wrong model for this replay?"
                    )
                seen.add(index)
                layers[index] = str(layer)
    labels = tuple(f"{_LAYER_SHORT.get(layer, layer)} {i}" for i, layer in enumerate(layers))
    return NeuronLayout(layers=tuple(layers), labels=labels)


def salient_neurons(values: np.ndarray, layout: NeuronLayout, count: int = 4) -> list[int]:
    """Motor neurons first, then the remaining neurons with the largest variance."""
    chosen = layout.of_layer("motor")[:count]
    variance = np.nanvar(values, axis=0) if values.size else np.zeros(layout.count)
    for index in np.argsort(-np.nan_to_num(variance, nan=-1.0), kind="stable"):
        if len(chosen) >= count:
            break
        if int(index) not in chosen:
            chosen.append(int(index))
    return chosen


def plot_neuron_activity(
    trace: Trace,
    layout: NeuronLayout,
    *,
    autonomous: np.ndarray | None = None,
    highlight: Sequence[int] | None = None,
    title: str = "Neuron activity",
) -> Figure:
    """Heatmap of all neurons over time (rows motor, command, inter) and traces of a few."""
    if trace.width != layout.count:
        raise AuditError(f"the layout has {layout.count} neurons; the trace has {trace.width}")
    t = trace.stamp - (trace.stamp[0] if trace.stamp.size else 0.0)
    order = layout.display_order()
    chosen = list(highlight) if highlight is not None else salient_neurons(trace.values, layout)
    fig = new_figure(11.0, 7.0)
    heat_ax, line_ax = fig.subplots(2, 1, sharex=True, height_ratios=(1.4, 1.0))
    if t.size:
        values = trace.values[:, order].T
        finite = values[np.isfinite(values)]
        limit = (float(np.max(np.abs(finite))) if finite.size else 0.0) or 1.0
        image = heat_ax.imshow(
            values,
            aspect="auto",
            interpolation="nearest",
            cmap="RdBu_r",
            vmin=-limit,
            vmax=limit,
            extent=(float(t[0]), float(t[-1]) if t.size > 1 else 1.0, len(order) - 0.5, -0.5),
        )
        fig.colorbar(image, ax=heat_ax, label="potential")
    heat_ax.set_yticks(range(len(order)), [layout.labels[i] for i in order], fontsize=7)
    heat_ax.set_title(title)
    if autonomous is not None:
        shade_spans(line_ax, t, np.asarray(autonomous, dtype=bool))
    for index in chosen:
        line_ax.plot(t, trace.values[:, index], lw=1.0, label=layout.labels[index])
    line_ax.set_xlabel("time (s)")
    line_ax.set_ylabel("potential")
    line_ax.legend(loc="upper right", fontsize=8, ncols=min(5, len(chosen) + 1))
    return fig


def plot_neurons_on_track(
    replay: Replay,
    trace: Trace,
    layout: NeuronLayout,
    neurons: Sequence[int],
    *,
    values: np.ndarray | None = None,
    quantity: str = "potential",
) -> Figure:
    """The GPS road trace coloured by each chosen neuron's ``values`` (default: the trace's)."""
    if not replay.has_gps:
        raise AuditError(f"{replay.directory} has no GPS positions: no road trace to draw on")
    data = trace.values if values is None else values
    lat, lon = replay.position_at(trace.stamp)
    east, north = to_local_m(lat, lon, track_origin(lat, lon))
    cols = min(len(neurons), 3) or 1
    rows = -(-len(neurons) // cols) or 1
    fig = new_figure(4.2 * cols + 1.0, 3.8 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, index in zip(axes, neurons, strict=False):
        draw_track(fig, ax, east, north, data[:, index], quantity, cmap="viridis")
        ax.set_title(layout.labels[index])
    for ax in axes[len(neurons) :]:
        ax.set_visible(False)
    return fig

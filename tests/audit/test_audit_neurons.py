"""Neuron layout from the model's wiring, and the neuron-activity figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ncp_driver.audit import AuditError, load_replay, neuron_layout
from ncp_driver.audit.neurons import (
    plot_neuron_activity,
    plot_neurons_on_track,
    salient_neurons,
)
from ncp_driver.audit.sample import SampleDrive, write_sample_replay
from ncp_driver.replay.subgraphs import load_model, read_contract


def test_layout_of_the_exported_ncp_follows_its_wiring(ncp_model: Path) -> None:
    contract = read_contract(load_model(ncp_model))
    layout = neuron_layout(contract.wiring, contract.neuron_count)
    layers = contract.wiring["layers"]
    assert layout.count == 19
    assert layout.of_layer("motor") == sorted(layers["motor"]) == [0]
    assert layout.of_layer("command") == sorted(layers["command"])
    assert len(layout.of_layer("inter")) == 12
    assert layout.labels[0] == "motor 0"
    order = layout.display_order()
    assert order[0] == 0 and [layout.layers[i] for i in order[1:7]] == ["command"] * 6


def test_layout_without_wiring_and_with_a_wrong_one() -> None:
    plain = neuron_layout(None, 4)
    assert plain.layers == ("hidden",) * 4 and plain.labels == ("h 0", "h 1", "h 2", "h 3")
    with pytest.raises(AuditError, match="wrong model for this replay"):
        neuron_layout({"layers": {"motor": [0], "inter": [1, 25]}}, 19)
    with pytest.raises(AuditError, match="twice"):
        neuron_layout({"layers": {"motor": [0], "inter": [0]}}, 3)


def test_salient_neurons_are_motor_then_most_variable() -> None:
    layout = neuron_layout({"layers": {"motor": [0], "command": [1, 2], "inter": [3]}}, 4)
    values = np.column_stack([np.zeros(10), np.ones(10), np.linspace(0, 5, 10), np.arange(10.0)])
    assert salient_neurons(values, layout, count=3) == [0, 3, 2]


def test_activity_figures(tmp_path: Path) -> None:
    replay = load_replay(write_sample_replay(tmp_path / "r", SampleDrive(frames=80)))
    trace = replay.require_neurons()
    layout = neuron_layout(
        {"layers": {"motor": [0], "command": list(range(1, 7)), "inter": list(range(7, 19))}}, 19
    )
    fig = plot_neuron_activity(trace, layout, autonomous=replay.mode_at(trace.stamp))
    heat, lines = fig.axes[0], fig.axes[1]
    assert heat.get_images()[0].get_array().shape == (19, 80)
    assert [t.get_text() for t in heat.get_yticklabels()][:2] == ["motor 0", "cmd 1"]
    assert len(lines.get_lines()) == 4 and lines.get_lines()[0].get_label() == "motor 0"
    track = plot_neurons_on_track(replay, trace, layout, [0, 3])
    visible = [ax for ax in track.axes if ax.get_visible() and ax.get_title()]
    assert [ax.get_title() for ax in visible] == ["motor 0", "cmd 3"]
    with pytest.raises(AuditError, match="the trace has 19"):
        plot_neuron_activity(trace, neuron_layout(None, 5))


def test_track_figure_needs_gps(tmp_path: Path) -> None:
    replay = load_replay(write_sample_replay(tmp_path / "r", SampleDrive(frames=30, gps=False)))
    trace = replay.require_neurons()
    with pytest.raises(AuditError, match="no GPS positions"):
        plot_neurons_on_track(replay, trace, neuron_layout(None, 19), [0])

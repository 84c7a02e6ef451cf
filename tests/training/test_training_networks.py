"""Every model kind: shapes, state handling, and the elapsed-time convention."""

from __future__ import annotations

import pytest
import torch
from ncps.torch import LTCCell
from ncps.wirings import AutoNCP

from ncp_driver.contract import MODEL_KINDS
from ncp_driver.training.errors import TrainingConfigError
from ncp_driver.training.head import ConvHead
from ncp_driver.training.networks import SteeringNetwork, build_model

torch.set_num_threads(1)

EXPECTED = {  # kind: (state size, neuron count, feature count)
    "ncp": (19, 19, 32),
    "cfc": (19, 19, 32),
    "lstm": (128, 64, 32),
    "gru": (64, 64, 32),
    "ctrnn": (64, 64, 32),
    "cnn": (0, 100, 1000),
}


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_shapes_of_sequence_and_step(kind: str) -> None:
    model = build_model(kind).eval()
    state_size, neurons, features = EXPECTED[kind]
    assert (model.state_size, model.neuron_count, model.feature_count) == EXPECTED[kind]
    frames = torch.rand(2, 3, 78, 200, 3)
    with torch.no_grad():
        outputs, final = model(frames, torch.full((2, 3), model.frame_period_s))
        curvature, new_state, neuron_values, feature_values = model.step(
            frames[:, 0], model.initial_state(2), torch.full((2, 1), model.frame_period_s)
        )
    assert outputs.shape == (2, 3)
    assert final.shape == (2, state_size)
    assert curvature.shape == (2, 1)
    assert new_state.shape == (2, state_size)
    assert neuron_values.shape == (2, neurons)
    assert feature_values.shape == (2, features)
    # step() reports 1/m, forward() training units (x1000): the first frames agree.
    assert torch.allclose(curvature[:, 0] * 1000.0, outputs[:, 0], atol=1e-5)


@pytest.mark.parametrize("kind", ["ncp", "cfc", "lstm", "gru", "ctrnn"])
def test_state_carries_memory(kind: str) -> None:
    model = build_model(kind).eval()
    frames = torch.rand(1, 4, 78, 200, 3)
    with torch.no_grad():
        _, state = model(frames)
        fresh, _ = model(frames[:, :1])
        carried, _ = model(frames[:, :1], state=state)
    assert not torch.allclose(fresh, carried)


def test_cnn_has_no_memory() -> None:
    model = build_model("cnn").eval()
    frames = torch.rand(1, 3, 78, 200, 3)
    with torch.no_grad():
        sequence, _ = model(frames)
        single = torch.stack([model(frames[:, i : i + 1])[0][0, 0] for i in range(3)])
    assert torch.allclose(sequence[0], single, atol=1e-6)


def test_a_dropped_frame_is_integrated_over_the_real_gap() -> None:
    """One step of two periods lands near two steps of one period, far from one step."""
    model = build_model("ncp").eval()
    frame = torch.rand(1, 78, 200, 3)
    period = model.frame_period_s
    state = model.initial_state(1)
    with torch.no_grad():
        one = model.step(frame, state, torch.tensor([[period]]))[1]
        two_steps = model.step(frame, one, torch.tensor([[period]]))[1]
        one_long = model.step(frame, state, torch.tensor([[2.0 * period]]))[1]
    assert (one_long - two_steps).abs().max() < 0.25 * (one - two_steps).abs().max()


def test_time_is_measured_in_nominal_frame_periods() -> None:
    """The same elapsed/period ratio gives the same result whatever the camera rate."""
    fast = build_model("ncp", frame_period_s=1 / 30).eval()
    slow = build_model("ncp", frame_period_s=1 / 10).eval()
    frame = torch.rand(1, 78, 200, 3)
    with torch.no_grad():
        a = fast.step(frame, fast.initial_state(1), torch.tensor([[1.5 / 30]]))[1]
        b = slow.step(frame, slow.initial_state(1), torch.tensor([[1.5 / 10]]))[1]
        c = slow.step(frame, slow.initial_state(1), torch.tensor([[1.5 / 30]]))[1]
    assert torch.allclose(a, b, atol=1e-6)
    assert not torch.allclose(a, c, atol=1e-4)


def test_cfc_neurons_are_reported_in_neuron_id_order() -> None:
    model = build_model("cfc").eval()
    with torch.no_grad():
        _, state, neurons, _ = model.step(
            torch.rand(1, 78, 200, 3), model.initial_state(1), torch.tensor([[1 / 30]])
        )
    wiring = model.cell.wiring()
    layer_order = [n for layer in range(3) for n in wiring.get_neurons_of_layer(layer)]
    for slot, neuron in enumerate(layer_order):
        assert neurons[0, neuron] == state[0, slot]


def test_a_model_built_from_plain_ncps_cells() -> None:
    cell = LTCCell(AutoNCP(19, 1, seed=1), in_features=32)
    model = SteeringNetwork(ConvHead(), cell, kind="ncp")
    outputs, state = model(torch.rand(1, 2, 78, 200, 3))
    assert outputs.shape == (1, 2) and state.shape == (1, 19)
    assert model.describe_wiring()["type"] == "AutoNCP"


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(TrainingConfigError, match="unknown model kind 'transformer'"):
        build_model("transformer")


def test_readout_from_labels_lets_a_bounded_motor_neuron_reach_the_labels() -> None:
    """An LTC or wired-CfC motor potential lies in about [-1, 1]: its gain is the labels' reach
    (gain = std stalled the LTC at about 0.8 std, under-steering every tighter curve); a linear
    readout over many units is scaled by the std."""
    from ncp_driver.training.cells import init_readout_from_labels

    for kind in ("ncp", "cfc"):
        model = build_model(kind, seed=3)
        init_readout_from_labels(model.cell, 0.5, 15.0, 70.0)
        # The readout maps a motor potential of +-1 onto mean +- reach.
        params = dict(model.cell.named_parameters())
        gains = [v for k, v in params.items() if k.endswith(("output_w", "readout.weight"))]
        assert gains and all(torch.allclose(g, torch.full_like(g, 70.0)) for g in gains), kind
    lstm = build_model("lstm", seed=3)
    before = lstm.cell.readout.weight.detach().clone()
    init_readout_from_labels(lstm.cell, 0.5, 15.0, 70.0)
    assert torch.allclose(lstm.cell.readout.weight, before * 15.0)
    assert torch.allclose(lstm.cell.readout.bias, torch.full_like(lstm.cell.readout.bias, 0.5))

"""The paper's NCP wiring, the conv head and the LTC cell's paper settings."""

from __future__ import annotations

import numpy as np
import torch
from ncps.wirings import NCP

from ncp_driver.training.cells import PaperLTCCell
from ncp_driver.training.head import ConvHead
from ncp_driver.training.networks import build_model
from ncp_driver.training.wiring import (
    PAPER_SEED,
    PAPER_WIRING,
    layer_synapse_counts,
    paper_wiring,
    wiring_description,
)

torch.set_num_threads(1)


def built(seed: int = PAPER_SEED):
    wiring = paper_wiring(seed)
    wiring.build(32)
    return wiring


def test_neuron_counts_per_layer() -> None:
    wiring = built()
    layers = wiring_description(wiring)["layers"]
    assert len(layers["inter"]) == 12
    assert len(layers["command"]) == 6
    assert len(layers["motor"]) == 1
    assert layers["motor"] == [0]
    ids = layers["motor"] + layers["command"] + layers["inter"]
    assert sorted(ids) == list(range(19))


def test_synapse_counts_per_layer_with_the_paper_seed() -> None:
    counts = layer_synapse_counts(built())
    assert counts["sensory_to_inter"] == 32 * 6
    assert counts["sensory_to_other"] == 0
    assert counts["inter_to_command"] == 12 * 4
    assert counts["command_to_command"] == 6
    assert counts["command_to_motor"] == 6
    assert counts["total"] == 252


def test_every_inter_and_command_neuron_is_reachable() -> None:
    wiring = built()
    layers = wiring_description(wiring)["layers"]
    sensory = np.abs(wiring.sensory_adjacency_matrix)
    adjacency = np.abs(wiring.adjacency_matrix)
    assert (sensory[:, layers["inter"]].sum(axis=0) > 0).all()
    assert (adjacency[:, layers["command"]].sum(axis=0) > 0).all()
    assert adjacency[layers["command"], 0].sum() == 6  # motor fan-in


def test_same_graph_as_ncps_with_the_paper_polarity() -> None:
    ours = built()
    theirs = NCP(**PAPER_WIRING, seed=PAPER_SEED)
    theirs.build(32)
    # The graph is ncps' own; only the signs were redrawn.
    assert np.array_equal(np.abs(ours.adjacency_matrix), np.abs(theirs.adjacency_matrix))
    assert np.array_equal(
        np.abs(ours.sensory_adjacency_matrix), np.abs(theirs.sensory_adjacency_matrix)
    )
    fraction = wiring_description(ours)["excitatory_fraction"]
    assert 0.6 < fraction < 0.8  # p = 0.7 over 252 synapses


def test_polarity_probability_is_a_parameter() -> None:
    inhibitory = paper_wiring(p_excitatory=0.0)
    inhibitory.build(32)
    assert (inhibitory.adjacency_matrix <= 0).all()
    assert (inhibitory.sensory_adjacency_matrix <= 0).all()


def test_seed_determinism() -> None:
    a, b, other = built(), built(), built(PAPER_SEED + 1)
    assert np.array_equal(a.adjacency_matrix, b.adjacency_matrix)
    assert np.array_equal(a.sensory_adjacency_matrix, b.sensory_adjacency_matrix)
    assert not np.array_equal(a.sensory_adjacency_matrix, other.sensory_adjacency_matrix)
    first, second = build_model("ncp"), build_model("ncp")
    for (name, x), (_, y) in zip(
        first.state_dict().items(), second.state_dict().items(), strict=True
    ):
        assert torch.equal(x, y), name


def test_cell_uses_the_wiring_signs_as_reversal_potentials() -> None:
    model = build_model("ncp")
    cell = model.cell.cell
    wiring = cell._wiring
    assert torch.equal(cell._params["erev"].detach(), torch.tensor(wiring.adjacency_matrix).float())
    assert torch.equal(
        cell._params["sparsity_mask"], torch.tensor(np.abs(wiring.adjacency_matrix)).float()
    )


def test_conv_head_has_the_papers_79420_parameters_and_32_features() -> None:
    head = ConvHead()
    assert sum(p.numel() for p in head.parameters()) == 79_420
    frames = torch.rand(2, 78, 200, 3)
    assert head(frames).shape == (2, 32)
    assert [tuple(m.shape[1:]) for m in head.conv_maps(frames)] == [
        (24, 39, 100),
        (36, 20, 50),
        (48, 10, 25),
        (64, 10, 25),
        (8, 10, 25),
    ]
    conv_biases = [m.bias for m in head.convs if isinstance(m, torch.nn.Conv2d)]
    assert all(torch.allclose(b, torch.full_like(b, 0.01)) for b in conv_biases)


def test_per_image_standardisation_makes_the_input_scale_irrelevant() -> None:
    head = ConvHead()
    frames = torch.rand(3, 78, 200, 3)
    with torch.no_grad():
        assert torch.allclose(head(frames), head(frames * 255.0), atol=1e-5)
        assert torch.allclose(head(frames), head(frames * 0.5 + 0.2), atol=1e-5)


def test_ltc_starts_at_the_papers_values() -> None:
    cell = PaperLTCCell(paper_wiring(), in_features=32)
    params = cell._params
    assert torch.allclose(cell.effective_cm_t(1.0), torch.full((19,), 0.5))
    assert torch.equal(params["gleak"].detach(), torch.ones(19))
    mask = params["sparsity_mask"] > 0
    w = params["w"].detach()[mask]
    assert w.min() >= 0.1 and w.max() <= 1.0
    mu, sigma = params["mu"].detach()[mask], params["sigma"].detach()[mask]
    assert mu.min() >= 0.3 and mu.max() <= 0.8
    assert sigma.min() >= 3.0 and sigma.max() <= 8.0
    vleak = params["vleak"].detach()
    assert vleak.min() >= -0.2 and vleak.max() <= 0.2


def test_ltc_parameters_are_clipped_to_the_papers_ranges() -> None:
    model = build_model("ncp")
    params = model.cell.cell._params
    with torch.no_grad():
        params["cm"].fill_(-1.0)
        params["gleak"].fill_(1e6)
        params["w"].fill_(-3.0)
        params["sensory_w"].fill_(500.0)
    model.apply_constraints()
    cm_t = model.cell.cell.effective_cm_t(1.0)
    assert torch.allclose(cm_t, torch.full_like(cm_t, 1e-4))
    assert torch.all(params["gleak"] == 100.0)
    assert torch.allclose(params["w"].detach(), torch.full((19, 19), 1e-3))
    assert torch.all(params["sensory_w"] == 100.0)

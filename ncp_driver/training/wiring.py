"""The paper's NCP wiring: ncps' ``NCP`` graph with the paper's synapse polarity.

ncps draws each synapse excitatory with probability 0.5; the paper's code drew it with
probability 0.7. :class:`PaperNCP` extends (does not fork) ``ncps.wirings.NCP``: it builds the
very same graph as ``NCP`` with the same seed, then redraws every synapse's sign from its own
seeded generator. :func:`wiring_description` turns any ncps wiring into the JSON stored in the
exported model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ncps.wirings import NCP, Wiring

__all__ = [
    "PAPER_SEED",
    "PAPER_WIRING",
    "PaperNCP",
    "layer_synapse_counts",
    "paper_wiring",
    "wiring_description",
]

PAPER_SEED = 20190120

# The paper's layout (ncps argument names).
PAPER_WIRING: dict[str, int] = {
    "inter_neurons": 12,
    "command_neurons": 6,
    "motor_neurons": 1,
    "sensory_fanout": 6,
    "inter_fanout": 4,
    "recurrent_command_synapses": 6,
    "motor_fanin": 6,
}


class PaperNCP(NCP):
    """``ncps.wirings.NCP`` whose synapses are excitatory with probability ``p_excitatory``.

    The graph (who connects to whom) is exactly ncps' for the same ``seed``; only the signs
    are redrawn, in row-major order of the sensory then the recurrent adjacency matrix, from
    ``numpy.random.default_rng(seed)``.
    """

    def __init__(
        self,
        inter_neurons: int = 12,
        command_neurons: int = 6,
        motor_neurons: int = 1,
        sensory_fanout: int = 6,
        inter_fanout: int = 4,
        recurrent_command_synapses: int = 6,
        motor_fanin: int = 6,
        seed: int = PAPER_SEED,
        p_excitatory: float = 0.7,
    ) -> None:
        if not 0.0 <= p_excitatory <= 1.0:
            raise ValueError(f"p_excitatory must lie in [0, 1], got {p_excitatory}")
        super().__init__(
            inter_neurons,
            command_neurons,
            motor_neurons,
            sensory_fanout,
            inter_fanout,
            recurrent_command_synapses,
            motor_fanin,
            seed=seed,
        )
        self.seed = seed
        self.p_excitatory = p_excitatory
        self.layout = {
            "inter_neurons": inter_neurons,
            "command_neurons": command_neurons,
            "motor_neurons": motor_neurons,
            "sensory_fanout": sensory_fanout,
            "inter_fanout": inter_fanout,
            "recurrent_command_synapses": recurrent_command_synapses,
            "motor_fanin": motor_fanin,
        }

    def build(self, input_shape: int) -> None:
        already_built = self.is_built()
        super().build(input_shape)
        if already_built:
            return
        rng = np.random.default_rng(self.seed)
        for matrix in (self.sensory_adjacency_matrix, self.adjacency_matrix):
            rows, cols = np.nonzero(matrix)
            signs = np.where(rng.random(len(rows)) < self.p_excitatory, 1, -1)
            matrix[rows, cols] = signs


def paper_wiring(seed: int = PAPER_SEED, p_excitatory: float = 0.7) -> PaperNCP:
    """A fresh, unbuilt wiring with the paper's layout (each cell needs its own instance)."""
    return PaperNCP(**PAPER_WIRING, seed=seed, p_excitatory=p_excitatory)


def _layers(wiring: Wiring) -> dict[str, list[int]]:
    """Neuron ids per layer name (NCP) or one ``hidden`` layer."""
    if isinstance(wiring, NCP):
        return {
            "inter": [int(i) for i in wiring.get_neurons_of_layer(0)],
            "command": [int(i) for i in wiring.get_neurons_of_layer(1)],
            "motor": [int(i) for i in wiring.get_neurons_of_layer(2)],
        }
    return {"hidden": list(range(int(wiring.units)))}


def layer_synapse_counts(wiring: Wiring) -> dict[str, int]:
    """Synapses per connection type (``sensory_to_inter``, ``inter_to_command``, ...)."""
    sensory = np.abs(np.asarray(wiring.sensory_adjacency_matrix))
    adjacency = np.abs(np.asarray(wiring.adjacency_matrix))
    layers = _layers(wiring)
    if "hidden" in layers:
        return {
            "sensory_to_hidden": int(sensory.sum()),
            "hidden_to_hidden": int(adjacency.sum()),
        }
    inter, command, motor = layers["inter"], layers["command"], layers["motor"]
    return {
        "sensory_to_inter": int(sensory[:, inter].sum()),
        "sensory_to_other": int(sensory.sum() - sensory[:, inter].sum()),
        "inter_to_command": int(adjacency[np.ix_(inter, command)].sum()),
        "command_to_command": int(adjacency[np.ix_(command, command)].sum()),
        "command_to_motor": int(adjacency[np.ix_(command, motor)].sum()),
        "total": int(sensory.sum() + adjacency.sum()),
    }


def wiring_description(wiring: Wiring) -> dict[str, Any]:
    """JSON-ready description: adjacency with signs, layer membership, counts, seed."""
    sensory = np.asarray(wiring.sensory_adjacency_matrix, dtype=np.int64)
    adjacency = np.asarray(wiring.adjacency_matrix, dtype=np.int64)
    description: dict[str, Any] = {
        "type": type(wiring).__name__,
        "units": int(wiring.units),
        "input_dim": int(wiring.input_dim),
        "output_dim": int(wiring.output_dim),
        "layers": _layers(wiring),
        "adjacency": adjacency.tolist(),
        "sensory_adjacency": sensory.tolist(),
        "adjacency_convention": "matrix[src, dest] = +1 excitatory, -1 inhibitory, 0 none",
        "synapse_counts": layer_synapse_counts(wiring),
        "excitatory_fraction": float(
            ((sensory > 0).sum() + (adjacency > 0).sum())
            / max(1, (sensory != 0).sum() + (adjacency != 0).sum())
        ),
    }
    if isinstance(wiring, PaperNCP):
        description.update(
            seed=wiring.seed, p_excitatory=wiring.p_excitatory, layout=dict(wiring.layout)
        )
    return description

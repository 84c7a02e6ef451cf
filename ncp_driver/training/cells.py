"""Recurrent cells behind one step interface, so every kind exports and trains the same way.

Every step module maps ``(features [B, F], state [B, S], timespan [B, 1])`` to
``(output [B, 1], new_state [B, S], neurons [B, K])``; ``timespan`` is the elapsed time in
nominal frame periods (1.0 at the camera's nominal rate). ``output`` is in training units
(inverse_r x 1000).

The ncps cells are used as they are (``LTCCell``, ``WiredCfCCell``, ``CfCCell``);
:class:`PaperLTCCell` only changes their initial ranges and the clipping to the paper's.
:func:`adapt_cell` wraps a plain ncps or torch cell, so a model built directly from ncps
cells trains and exports like ours.
"""

from __future__ import annotations

import torch
from ncps.torch import CfCCell, LTCCell, WiredCfCCell
from ncps.wirings import Wiring
from torch import nn

__all__ = [
    "CTRNNCell",
    "CTRNNStep",
    "CfCStep",
    "FeedForwardDecision",
    "GRUStep",
    "LSTMStep",
    "LTCStep",
    "PaperLTCCell",
    "StepCell",
    "WiredCfCStep",
    "adapt_cell",
]


class PaperLTCCell(LTCCell):
    """ncps' LTC cell with the paper's initial ranges and parameter clipping.

    ncps computes ``cm_t = cm / (timespan / ode_unfolds)``; the paper learned ``cm_t``
    directly with initial value 0.5 per unfold. So ``cm`` starts at ``cm_t_init /
    ode_unfolds``, which gives the paper's ``cm_t`` at the nominal step (timespan 1), and the
    paper's clip range for ``cm_t`` [1e-4, 1000] is applied to that effective value.
    """

    CM_T_RANGE = (1e-4, 1000.0)
    GLEAK_RANGE = (1e-3, 100.0)
    W_RANGE = (1e-3, 100.0)

    def __init__(
        self,
        wiring: Wiring,
        in_features: int | None = None,
        ode_unfolds: int = 6,
        cm_t_init: float = 0.5,
        input_mapping: str = "affine",
        output_mapping: str = "affine",
    ) -> None:
        self._cm_init = cm_t_init / ode_unfolds
        super().__init__(
            wiring,
            in_features=in_features,
            input_mapping=input_mapping,
            output_mapping=output_mapping,
            ode_unfolds=ode_unfolds,
        )

    def _allocate_parameters(self) -> None:
        cm = self._cm_init
        self._init_ranges.update(
            gleak=(1.0, 1.0),
            vleak=(-0.2, 0.2),
            cm=(cm, cm),
            w=(0.1, 1.0),
            sigma=(3.0, 8.0),
            mu=(0.3, 0.8),
            sensory_w=(0.1, 1.0),
            sensory_sigma=(3.0, 8.0),
            sensory_mu=(0.3, 0.8),
        )
        super()._allocate_parameters()

    @torch.no_grad()
    def apply_weight_constraints(self) -> None:
        unfolds = float(self._ode_unfolds)
        params = self._params
        params["cm"].clamp_(self.CM_T_RANGE[0] / unfolds, self.CM_T_RANGE[1] / unfolds)
        params["gleak"].clamp_(*self.GLEAK_RANGE)
        params["w"].clamp_(*self.W_RANGE)
        params["sensory_w"].clamp_(*self.W_RANGE)

    def effective_cm_t(self, timespan: float = 1.0) -> torch.Tensor:
        """The paper's cm_t (per unfold) at ``timespan`` nominal frame periods."""
        return self._params["cm"].detach() / (timespan / self._ode_unfolds)


class StepCell(nn.Module):
    """Base of the step modules: one frame's features in, output, state and neurons out."""

    state_size: int
    neuron_count: int
    kind: str = "custom"

    def initial_state(self, batch: int, device: torch.device | None = None) -> torch.Tensor:
        return torch.zeros(batch, self.state_size, device=device)

    def apply_constraints(self) -> None:
        """Clip parameters after an optimiser step (only the LTC has constraints)."""

    def wiring(self) -> Wiring | None:
        return None


class LTCStep(StepCell):
    """An ncps ``LTCCell`` (or :class:`PaperLTCCell`): neurons = all potentials, by neuron id."""

    kind = "ncp"

    def __init__(self, cell: LTCCell) -> None:
        super().__init__()
        self.cell = cell
        self.state_size = int(cell.state_size)
        self.neuron_count = int(cell.state_size)

    def forward(
        self, features: torch.Tensor, state: torch.Tensor, timespan: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        output, new_state = self.cell(features, state, timespan)
        return output[:, :1], new_state, new_state

    def apply_constraints(self) -> None:
        self.cell.apply_weight_constraints()

    def wiring(self) -> Wiring:
        return self.cell._wiring


class _AffineReadout(nn.Module):
    """y = w * x + b on one motor value (the CfC's motor neuron lies in [-1, 1])."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight + self.bias


class WiredCfCStep(StepCell):
    """An ncps ``WiredCfCCell`` with an affine readout of motor neuron 0.

    ncps keeps the state in layer order (inter, command, motor); ``neurons`` reorders it to
    neuron ids, as the LTC's, so neuron i means the same in both kinds.
    """

    kind = "cfc"
    neuron_slots: torch.Tensor

    def __init__(self, cell: WiredCfCCell) -> None:
        super().__init__()
        self.cell = cell
        wiring = cell._wiring
        self.state_size = int(cell.state_size)
        self.neuron_count = int(cell.state_size)
        layer_order = [
            int(n) for layer in range(cell.num_layers) for n in wiring.get_neurons_of_layer(layer)
        ]
        position = [0] * len(layer_order)
        for slot, neuron in enumerate(layer_order):
            position[neuron] = slot
        self.register_buffer("neuron_slots", torch.tensor(position, dtype=torch.long))
        self.motor_slot = position[0]
        self.readout = _AffineReadout()

    def forward(
        self, features: torch.Tensor, state: torch.Tensor, timespan: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        _, new_state = self.cell(features, state, timespan)
        motor = new_state[:, self.motor_slot : self.motor_slot + 1]
        neurons = torch.index_select(new_state, 1, self.neuron_slots)
        return self.readout(motor), new_state, neurons

    def wiring(self) -> Wiring:
        return self.cell._wiring


class CfCStep(StepCell):
    """A fully connected ncps ``CfCCell`` with a linear readout."""

    kind = "cfc"

    def __init__(self, cell: CfCCell) -> None:
        super().__init__()
        self.cell = cell
        self.state_size = int(cell.hidden_size)
        self.neuron_count = int(cell.hidden_size)
        self.readout = nn.Linear(self.state_size, 1)

    def forward(
        self, features: torch.Tensor, state: torch.Tensor, timespan: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        _, new_state = self.cell(features, state, timespan)
        return self.readout(new_state), new_state, new_state


class LSTMStep(StepCell):
    """``torch.nn.LSTMCell``; the state is ``[h, c]`` in one flat vector, neurons = h.

    A discrete-time cell: the elapsed time is ignored.
    """

    kind = "lstm"

    def __init__(self, cell: nn.LSTMCell) -> None:
        super().__init__()
        self.cell = cell
        self.hidden = int(cell.hidden_size)
        self.state_size = 2 * self.hidden
        self.neuron_count = self.hidden
        self.readout = nn.Linear(self.hidden, 1)

    def forward(
        self, features: torch.Tensor, state: torch.Tensor, timespan: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h, c = self.cell(features, (state[:, : self.hidden], state[:, self.hidden :]))
        return self.readout(h), torch.cat([h, c], dim=1), h


class GRUStep(StepCell):
    """``torch.nn.GRUCell`` with a linear readout (discrete time: elapsed time ignored)."""

    kind = "gru"

    def __init__(self, cell: nn.GRUCell) -> None:
        super().__init__()
        self.cell = cell
        self.state_size = int(cell.hidden_size)
        self.neuron_count = self.state_size
        self.readout = nn.Linear(self.state_size, 1)

    def forward(
        self, features: torch.Tensor, state: torch.Tensor, timespan: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.cell(features, state)
        return self.readout(h), h, h


class CTRNNCell(nn.Module):
    """The paper's CT-RNN baseline: dv/dt = -v / tau + tanh(W [x, v] + b), explicit Euler.

    ``ode_unfolds`` Euler steps of ``dt * timespan`` each (the paper: 6 unfolds, dt 0.1,
    tau 1 fixed). ncps has no CT-RNN cell, hence this one.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int = 64,
        ode_unfolds: int = 6,
        dt: float = 0.1,
        tau: float = 1.0,
    ) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.ode_unfolds = ode_unfolds
        self.dt = dt
        self.tau = tau
        self.linear = nn.Linear(input_size + hidden_size, hidden_size)
        nn.init.xavier_uniform_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(
        self, inputs: torch.Tensor, state: torch.Tensor, timespan: torch.Tensor
    ) -> torch.Tensor:
        step = timespan * self.dt
        for _ in range(self.ode_unfolds):
            drive = torch.tanh(self.linear(torch.cat([inputs, state], dim=1)))
            state = state + step * (drive - state / self.tau)
        return state


class CTRNNStep(StepCell):
    """:class:`CTRNNCell` with a linear readout; neurons = the hidden state."""

    kind = "ctrnn"

    def __init__(self, cell: CTRNNCell) -> None:
        super().__init__()
        self.cell = cell
        self.state_size = cell.hidden_size
        self.neuron_count = cell.hidden_size
        self.readout = nn.Linear(cell.hidden_size, 1)

    def forward(
        self, features: torch.Tensor, state: torch.Tensor, timespan: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.cell(features, state, timespan)
        return self.readout(h), h, h


class FeedForwardDecision(StepCell):
    """The CNN baseline's Dense(100, ReLU) - Dense(1): no state; neurons = the 100 units."""

    kind = "cnn"

    def __init__(self, in_features: int = 1000, units: int = 100) -> None:
        super().__init__()
        self.hidden = nn.Linear(in_features, units)
        self.readout = nn.Linear(units, 1)
        for layer in (self.hidden, self.readout):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
        self.state_size = 0
        self.neuron_count = units

    def forward(
        self, features: torch.Tensor, state: torch.Tensor, timespan: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = torch.relu(self.hidden(features))
        return self.readout(h), state, h


def adapt_cell(cell: nn.Module) -> StepCell:
    """Wrap an ncps or torch cell in the step interface (a :class:`StepCell` passes through)."""
    if isinstance(cell, StepCell):
        return cell
    if isinstance(cell, LTCCell):
        return LTCStep(cell)
    if isinstance(cell, WiredCfCCell):
        return WiredCfCStep(cell)
    if isinstance(cell, CfCCell):
        return CfCStep(cell)
    if isinstance(cell, nn.LSTMCell):
        return LSTMStep(cell)
    if isinstance(cell, nn.GRUCell):
        return GRUStep(cell)
    if isinstance(cell, CTRNNCell):
        return CTRNNStep(cell)
    raise TypeError(
        f"cannot use a {type(cell).__name__} as the recurrent cell: pass an ncps LTCCell, "
        "WiredCfCCell or CfCCell, a torch LSTMCell or GRUCell, a CTRNNCell, or a StepCell subclass"
    )


def init_readout_from_labels(
    cell: StepCell, mean: float, std: float, reach: float | None = None
) -> None:
    """Start the readout at the training labels' scale: bias = mean, gain from their spread.

    The paper starts the LTC's output map at w = 1, b = 0, so a motor potential in about
    [-1, 1] must grow its gain to the labels' spread (inverse_r x 1000 is tens on curvy roads)
    one optimiser step at a time. A single bounded motor neuron (the LTC's, the wired CfC's)
    gets gain ``reach`` (default ``std``): the largest label deviation from the mean it must
    produce, so that it can without saturating. With gain = std an LTC trained for a few epochs
    stalled at about 0.8 std and under-steered every curve tighter than that (issue 14). A
    linear readout over many units (LSTM, GRU, CT-RNN, the CNN) is scaled by ``std``. Off by
    default (``--readout-init paper``).
    """
    gain = std if reach is None else reach
    with torch.no_grad():
        if isinstance(cell, LTCStep):
            cell.cell._params["output_w"].fill_(gain)
            cell.cell._params["output_b"].fill_(mean)
            return
        readout = getattr(cell, "readout", None)
        if isinstance(readout, _AffineReadout):
            readout.weight.fill_(gain)
            readout.bias.fill_(mean)
        elif isinstance(readout, nn.Linear):
            readout.weight.mul_(std)
            readout.bias.fill_(mean)
        else:
            raise TypeError(f"{type(cell).__name__} has no readout to initialise")

"""The steering networks, selectable by name as in the paper's scripts.

============  ======================================================================
kind          network (all read the same preprocessed 78 x 200 RGB frame)
============  ======================================================================
``ncp``       paper conv head -> LTC cell on the paper's NCP wiring (19 neurons)
``cfc``       paper conv head -> CfC cell on the same wiring
``lstm``      paper conv head -> LSTM, 64 units
``gru``       paper conv head -> GRU, 64 units
``ctrnn``     paper conv head -> CT-RNN, 64 units, 6 unfolds
``cnn``       the paper's feed-forward baseline (5 'valid' convs, dense 1000-100-1)
============  ======================================================================

A network's time input is seconds; the cell sees ``elapsed_s / frame_period_s`` (nominal frame
periods), so at the nominal camera rate the LTC integrates one unit step per frame and a
dropped frame (twice the period) is integrated over two.
"""

from __future__ import annotations

from typing import Any

import torch
from ncps.torch import WiredCfCCell
from torch import nn

from ncp_driver.contract import MODEL_KINDS, OutputMeaning
from ncp_driver.training.cells import (
    CTRNNCell,
    CTRNNStep,
    FeedForwardDecision,
    GRUStep,
    LSTMStep,
    LTCStep,
    PaperLTCCell,
    StepCell,
    WiredCfCStep,
    adapt_cell,
)
from ncp_driver.training.errors import TrainingConfigError
from ncp_driver.training.head import CNNBaselineHead, ConvHead
from ncp_driver.training.wiring import PAPER_SEED, paper_wiring, wiring_description

__all__ = ["DEFAULT_FRAME_PERIOD_S", "MODEL_KINDS", "SteeringNetwork", "build_model"]

DEFAULT_FRAME_PERIOD_S = 1.0 / 30.0
TRAINING_SCALE = OutputMeaning().training_scale


class SteeringNetwork(nn.Module):
    """A head (frames -> features) and a step cell (features, state, time -> output).

    ``forward`` runs sequences for training (outputs in training units, inverse_r x 1000);
    ``step`` runs one frame with the exported graph's meaning (curvature in 1/m).
    """

    def __init__(
        self,
        head: nn.Module,
        cell: nn.Module,
        kind: str = "ncp",
        frame_period_s: float = DEFAULT_FRAME_PERIOD_S,
        seed: int | None = None,
        training_scale: float = TRAINING_SCALE,
    ) -> None:
        super().__init__()
        if kind not in MODEL_KINDS:
            raise TrainingConfigError(f"unknown model kind {kind!r}; choose one of {MODEL_KINDS}")
        if not frame_period_s > 0:
            raise TrainingConfigError(f"frame_period_s must be positive, got {frame_period_s}")
        feature_count = getattr(head, "feature_count", None)
        if feature_count is None:
            raise TrainingConfigError(
                f"the head {type(head).__name__} has no feature_count: give it one"
            )
        self.head = head
        self._feature_count = int(feature_count)
        self.cell: StepCell = adapt_cell(cell)
        self.kind = kind
        self.frame_period_s = float(frame_period_s)
        self.seed = seed
        self.training_scale = float(training_scale)

    @property
    def state_size(self) -> int:
        return int(self.cell.state_size)

    @property
    def neuron_count(self) -> int:
        return int(self.cell.neuron_count)

    @property
    def feature_count(self) -> int:
        return self._feature_count

    @property
    def stateful(self) -> bool:
        return self.kind != "cnn"

    def initial_state(self, batch: int, device: torch.device | None = None) -> torch.Tensor:
        return self.cell.initial_state(batch, device)

    def apply_constraints(self) -> None:
        """Clip the cell's parameters to their allowed ranges (call after each optimiser step)."""
        self.cell.apply_constraints()

    def timespan(self, elapsed_s: torch.Tensor) -> torch.Tensor:
        """Elapsed seconds to the cell's time unit (nominal frame periods)."""
        return elapsed_s * (1.0 / self.frame_period_s)

    def forward(
        self,
        frames: torch.Tensor,
        elapsed_s: torch.Tensor | None = None,
        state: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Frames [B, T, H, W, 3], elapsed [B, T] s -> (outputs [B, T] x1000, final state)."""
        batch, steps = frames.shape[0], frames.shape[1]
        features = self.head(frames.reshape(batch * steps, *frames.shape[2:]))
        features = features.reshape(batch, steps, -1)
        if state is None:
            state = self.initial_state(batch, frames.device)
        if elapsed_s is None:
            timespan = torch.ones(batch, steps, device=frames.device, dtype=features.dtype)
        else:
            timespan = self.timespan(elapsed_s.to(features.dtype))
        outputs = []
        for t in range(steps):
            output, state, _ = self.cell(features[:, t], state, timespan[:, t : t + 1])
            outputs.append(output[:, 0])
        return torch.stack(outputs, dim=1), state

    def step(
        self, frame: torch.Tensor, state: torch.Tensor, elapsed_s: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """One frame [B, H, W, 3] -> (curvature 1/m [B, 1], state [B, S], neurons, features)."""
        features = self.head(frame)
        output, new_state, neurons = self.cell(features, state, self.timespan(elapsed_s))
        return output * (1.0 / self.training_scale), new_state, neurons, features

    def model_config(self) -> dict[str, Any]:
        """What :func:`build_model` needs to rebuild this network (for checkpoints)."""
        return {"kind": self.kind, "seed": self.seed, "frame_period_s": self.frame_period_s}

    def describe_wiring(self) -> dict[str, Any]:
        """JSON-ready wiring (NCP graph, or the layer sizes of a dense cell)."""
        wiring = self.cell.wiring()
        description: dict[str, Any] = {
            "kind": self.kind,
            "cell": type(self.cell).__name__,
            "state_size": self.state_size,
            "neuron_count": self.neuron_count,
            "feature_count": self.feature_count,
        }
        if wiring is not None:
            description.update(wiring_description(wiring))
        if self.seed is not None:
            description.setdefault("seed", self.seed)
        return description


def _cell(kind: str, features: int, seed: int) -> StepCell:
    if kind == "ncp":
        return LTCStep(PaperLTCCell(paper_wiring(seed), in_features=features, ode_unfolds=6))
    if kind == "cfc":
        return WiredCfCStep(WiredCfCCell(features, paper_wiring(seed)))
    if kind == "lstm":
        return LSTMStep(nn.LSTMCell(features, 64))
    if kind == "gru":
        return GRUStep(nn.GRUCell(features, 64))
    if kind == "ctrnn":
        return CTRNNStep(CTRNNCell(features, 64, ode_unfolds=6, dt=0.1))
    raise TrainingConfigError(f"unknown model kind {kind!r}; choose one of {MODEL_KINDS}")


def build_model(
    kind: str = "ncp",
    seed: int = PAPER_SEED,
    frame_period_s: float = DEFAULT_FRAME_PERIOD_S,
    height: int = 78,
    width: int = 200,
) -> SteeringNetwork:
    """Build a network by name; ``seed`` fixes both the wiring and the initial weights."""
    if kind not in MODEL_KINDS:
        raise TrainingConfigError(f"unknown model kind {kind!r}; choose one of {MODEL_KINDS}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        head: nn.Module
        cell: StepCell
        if kind == "cnn":
            baseline = CNNBaselineHead(height, width)
            head, cell = baseline, FeedForwardDecision(baseline.feature_count, 100)
        else:
            paper_head = ConvHead(height, width)
            head, cell = paper_head, _cell(kind, paper_head.feature_count, seed)
    return SteeringNetwork(head, cell, kind=kind, frame_period_s=frame_period_s, seed=seed)

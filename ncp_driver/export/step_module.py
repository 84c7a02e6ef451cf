"""The exported graphs: one camera frame through a :class:`SteeringNetwork`, per the contract.

``features`` is the head's output and the very tensor the cell consumes, so a runtime can cut
the file into a head graph (``frame -> features``, batched over many frames) and a cell graph
(``features, state, elapsed_s -> curvature, state_out, neurons``) with
``onnx.utils.extract_model``.
"""

from __future__ import annotations

import torch
from torch import nn

from ncp_driver.training.networks import SteeringNetwork

__all__ = ["StatelessStepGraph", "StepGraph", "step_graph"]


class StepGraph(nn.Module):
    """frame, state, elapsed_s -> curvature (1/m), state_out, neurons, features."""

    def __init__(self, model: SteeringNetwork) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, frame: torch.Tensor, state: torch.Tensor, elapsed_s: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.model.step(frame, state, elapsed_s)


class StatelessStepGraph(nn.Module):
    """frame -> curvature (1/m), neurons, features (the ``cnn`` kind: no state, no time)."""

    def __init__(self, model: SteeringNetwork) -> None:
        super().__init__()
        self.model = model

    def forward(self, frame: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        features = self.model.head(frame)
        no_state = features[:, :0]
        output, _, neurons = self.model.cell(features, no_state, features[:, :1])
        return output * (1.0 / self.model.training_scale), neurons, features


def step_graph(model: SteeringNetwork) -> nn.Module:
    """The export wrapper that matches ``model``'s contract (stateful or not)."""
    return StepGraph(model) if model.stateful else StatelessStepGraph(model)

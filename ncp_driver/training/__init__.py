"""Networks and training (needs torch and ncps): the paper's model, its baselines, its recipe.

Entry points: :func:`build_model` (a network by kind), :func:`train` with a
:class:`TrainConfig` (what ``ncp-train`` runs), :func:`load_checkpoint` /
:func:`model_from_checkpoint`.
"""

from __future__ import annotations

from ncp_driver.training.errors import (
    CheckpointError,
    DriveDataError,
    RunDirectoryError,
    TrainingConfigError,
    TrainingDivergedError,
    TrainingError,
)
from ncp_driver.training.networks import SteeringNetwork, build_model
from ncp_driver.training.runs import load_checkpoint, model_from_checkpoint
from ncp_driver.training.train import TrainConfig, train

__all__ = [
    "CheckpointError",
    "DriveDataError",
    "RunDirectoryError",
    "SteeringNetwork",
    "TrainConfig",
    "TrainingConfigError",
    "TrainingDivergedError",
    "TrainingError",
    "build_model",
    "load_checkpoint",
    "model_from_checkpoint",
    "train",
]

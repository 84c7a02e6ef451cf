"""The exported model cut in two for a replay: the conv head over a batch, the cell per frame.

:class:`SplitModel` stands in for :class:`~ncp_driver.runtime.SteeringModel` inside the very same
:class:`~ncp_driver.runtime.SteeringPipeline` (same resets, elapsed times, limits): the replay
runs :meth:`SplitModel.features` over a batch of preprocessed frames, then hands each frame's
features to :meth:`SplitModel.feed` and lets the pipeline step. Both halves are cut from the
model file itself (``ncp_driver.replay.subgraphs.split_step_graph``), so they compute what the car computes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ncp_driver.contract import (
    INPUT_ELAPSED,
    INPUT_FRAME,
    INPUT_STATE,
    OUTPUT_CURVATURE,
    OUTPUT_FEATURES,
    OUTPUT_NEURONS,
    OUTPUT_STATE,
    ModelContract,
)
from ncp_driver.errors import ModelContractError
from ncp_driver.replay.subgraphs import load_model, read_contract, split_step_graph
from ncp_driver.runtime.config import PipelineConfig
from ncp_driver.runtime.model import StepOutput, open_session, running_provider

__all__ = ["SplitModel"]


class SplitModel:
    """Head and cell sessions over one model file; duck-types ``SteeringModel`` for the pipeline."""

    def __init__(self, path: str | Path, config: PipelineConfig | None = None) -> None:
        config = config or PipelineConfig()
        path = Path(path)
        proto = load_model(path)
        self.contract: ModelContract = read_contract(proto, source=str(path))
        self.source = str(path)
        self.model_hash = hashlib.sha256(path.read_bytes()).hexdigest()
        head, cell = split_step_graph(proto)
        self._head = open_session(head.SerializeToString(), config, path.parent, f"{path} (head)")
        self._cell = open_session(
            cell.model.SerializeToString(), config, path.parent, f"{path} (cell)"
        )
        self._features_input = cell.features_input
        self.provider = running_provider(self._cell)
        h, w, c = self.contract.preprocessing.input_shape
        self._frame = np.zeros((1, h, w, c), np.float32)
        self._state = np.zeros((1, max(self.contract.state_size, 0)), np.float32)
        self._elapsed = np.zeros((1, 1), np.float32)
        self._fed: np.ndarray | None = None
        self._outputs = [n for n in self.contract.output_names() if n != OUTPUT_FEATURES]

    # -- the batched half ---------------------------------------------------------------------

    def features(self, frames: np.ndarray) -> np.ndarray:
        """The conv head's features for a batch of model inputs ``[n, H, W, 3]`` -> ``[n, F]``."""
        if frames.ndim != 4 or frames.shape[1:] != self._frame.shape[1:]:
            raise ModelContractError(
                f"frames of shape {frames.shape}; the model takes [n, *{self._frame.shape[1:]}]"
            )
        (out,) = self._head.run([OUTPUT_FEATURES], {INPUT_FRAME: frames})
        return np.asarray(out, np.float32)

    def feed(self, features: np.ndarray) -> None:
        """The features the next :meth:`step` uses instead of running the head."""
        self._fed = np.asarray(features, np.float32).reshape(1, -1)

    # -- what the pipeline calls --------------------------------------------------------------

    @property
    def frame_input(self) -> np.ndarray:
        """The (1, H, W, 3) buffer a step reads when no features were fed."""
        return self._frame

    @property
    def state(self) -> np.ndarray:
        return self._state[0].copy()

    def set_state(self, state: np.ndarray) -> None:
        self._state[0] = np.asarray(state, np.float32).reshape(-1)

    def reset_state(self) -> None:
        self._state.fill(0.0)

    def step(self, elapsed_s: float, frame: np.ndarray | None = None) -> StepOutput:
        """One frame: the fed features (else the head on ``frame`` / :attr:`frame_input`)."""
        if frame is not None:
            self._frame[...] = frame.reshape(self._frame.shape)
        features, self._fed = self._fed, None
        if features is None:
            features = self.features(self._frame)
        feeds = {self._features_input: features}
        if self.contract.stateful:
            self._elapsed[0, 0] = elapsed_s
            feeds[INPUT_STATE] = self._state
            feeds[INPUT_ELAPSED] = self._elapsed
        results = dict(zip(self._outputs, self._cell.run(self._outputs, feeds), strict=True))
        curvature = results[OUTPUT_CURVATURE]
        neurons = results[OUTPUT_NEURONS]
        finite = bool(np.isfinite(curvature).all() and np.isfinite(neurons).all())
        finite = finite and bool(np.isfinite(features).all())
        if self.contract.stateful:
            new_state = results[OUTPUT_STATE]
            finite = finite and bool(np.isfinite(new_state).all())
            self._state[...] = new_state
        return StepOutput(float(curvature[0, 0]), neurons[0], features[0], finite)

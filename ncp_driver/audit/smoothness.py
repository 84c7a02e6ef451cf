"""Smoothness of the recurrent dynamics: local Lipschitz constants along a replayed drive.

The paper's "sorted maximum Lipschitz constant" has no published formula; this is ours.
The cell maps the state before a frame to the state after it, h' = F(x, h, dt), with x the
frame's conv features and dt its elapsed time. Along the drive we take the Jacobian

    J_t = dF/dh (x_t, h_{t-1}, dt_t)                       (state_size x state_size)

by central finite differences in onnxruntime (column j: (F(h + e_j) - F(h - e_j)) / |2 e_j|,
e_j = eps * max(1, |h_j|) on unit j), and report

* L_t = ||J_t||_2, the spectral norm (largest singular value): the local Lipschitz constant of
  one frame's state update in the Euclidean norm; its curve sorted in descending order over the
  frames ("sorted Lipschitz constants") and its maximum max_t L_t, a lower bound of the
  dynamics' Lipschitz constant over the states the drive visited;
* per state unit i, max_t sum_j |J_t[i, j]|: how strongly unit i can react to a change of the
  whole state (the row of the infinity norm), sorted to compare units and models.

The states h_{t-1} are recomputed by running the cell over the replayed features (zero state at
the start and wherever output.csv records a reset; dt = the stamp difference, the nominal frame
period after a reset). Any stateful model kind works: only the cell graph's contract names are
used, whatever the state's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ncp_driver.audit.errors import AuditError
from ncp_driver.audit.figures import new_figure
from ncp_driver.audit.replay import Replay
from ncp_driver.contract import INPUT_ELAPSED, INPUT_STATE, OUTPUT_STATE
from ncp_driver.errors import NcpDriverError
from ncp_driver.replay.subgraphs import cell_graph, load_model, read_contract
from ncp_driver.runtime.config import PipelineConfig
from ncp_driver.runtime.model import open_session

__all__ = [
    "CellModel",
    "Rollout",
    "Smoothness",
    "plot_smoothness",
    "replay_rollout",
    "smoothness",
]

_MAX_BATCH = 4096


@dataclass(frozen=True)
class Rollout:
    """The cell's inputs and states at each replayed frame."""

    stamp: np.ndarray  # (N,)
    features: np.ndarray  # (N, F) float32
    elapsed_s: np.ndarray  # (N,) float32
    state_before: np.ndarray  # (N, S) float32
    state_after: np.ndarray  # (N, S) float32


class CellModel:
    """The model's recurrent cell, (features, state, elapsed_s) -> state_out, in onnxruntime."""

    def __init__(self, model_path: Path | str, config: PipelineConfig | None = None) -> None:
        model = load_model(model_path)
        self.contract = read_contract(model, source=str(model_path))
        cell = cell_graph(model)
        self._features = cell.features_input
        try:
            self._session = open_session(
                cell.model.SerializeToString(), config, source=f"the cell of {model_path}"
            )
        except NcpDriverError as exc:
            raise AuditError(f"onnxruntime cannot run the cell of {model_path}: {exc}") from exc

    @property
    def state_size(self) -> int:
        return self.contract.state_size

    def step(self, features: np.ndarray, state: np.ndarray, elapsed_s: np.ndarray) -> np.ndarray:
        """state_out (B, S) for features (B, F), state (B, S), elapsed_s (B,) or (B, 1)."""
        feeds = {
            self._features: np.ascontiguousarray(features, dtype=np.float32),
            INPUT_STATE: np.ascontiguousarray(state, dtype=np.float32),
            INPUT_ELAPSED: np.asarray(elapsed_s, dtype=np.float32).reshape(-1, 1),
        }
        (out,) = self._session.run([OUTPUT_STATE], feeds)
        return np.asarray(out)

    def rollout(self, stamp: np.ndarray, features: np.ndarray, resets: np.ndarray) -> Rollout:
        """Run the cell over a drive from the zero state, zeroing it where ``resets`` holds."""
        stamp = np.asarray(stamp, dtype=np.float64)
        feats = np.asarray(features, dtype=np.float32)
        reset = np.asarray(resets, dtype=bool).copy()
        if feats.ndim != 2 or feats.shape[0] != stamp.size or reset.shape != stamp.shape:
            raise AuditError(
                f"stamps {stamp.shape}, features {feats.shape} and resets {reset.shape} disagree"
            )
        if reset.size:
            reset[0] = True
        period = float(self.contract.frame_period_s)
        elapsed = np.concatenate(([period], np.diff(stamp))).astype(np.float32)
        elapsed[reset] = period
        if np.any(elapsed <= 0) or not np.all(np.isfinite(elapsed)):
            raise AuditError("replay stamps must increase strictly to step the cell")
        before = np.zeros((stamp.size, self.state_size), dtype=np.float32)
        after = np.zeros_like(before)
        state = np.zeros((1, self.state_size), dtype=np.float32)
        for t in range(stamp.size):
            if reset[t]:
                state = np.zeros_like(state)
            before[t] = state[0]
            state = self.step(feats[t : t + 1], state, elapsed[t : t + 1])
            after[t] = state[0]
        return Rollout(stamp, feats, elapsed, before, after)

    def jacobians(
        self,
        features: np.ndarray,
        states: np.ndarray,
        elapsed_s: np.ndarray,
        eps: float = 1e-3,
    ) -> np.ndarray:
        """d state_out / d state (N, S, S), row i = output unit, column j = input unit."""
        feats = np.asarray(features, dtype=np.float32)
        h = np.asarray(states, dtype=np.float32)
        dt = np.asarray(elapsed_s, dtype=np.float32).reshape(-1)
        n, size = h.shape
        out = np.empty((n, size, size), dtype=np.float64)
        per_run = max(1, _MAX_BATCH // (2 * size))
        eye = np.eye(size, dtype=np.float32)
        for start in range(0, n, per_run):
            stop = min(n, start + per_run)
            block = h[start:stop]  # (b, S)
            step = (eps * np.maximum(1.0, np.abs(block)))[:, :, None] * eye  # (b, S_pert, S)
            plus = (block[:, None, :] + step).astype(np.float32)
            minus = (block[:, None, :] - step).astype(np.float32)
            delta = (plus - minus)[:, np.arange(size), np.arange(size)].astype(np.float64)
            b = stop - start
            stacked = np.concatenate([plus, minus], axis=1).reshape(b * 2 * size, size)
            result = self.step(
                np.repeat(feats[start:stop], 2 * size, axis=0),
                stacked,
                np.repeat(dt[start:stop], 2 * size),
            ).reshape(b, 2 * size, size)
            diff = result[:, :size].astype(np.float64) - result[:, size:]  # (b, j, i)
            out[start:stop] = np.transpose(diff / delta[:, :, None], (0, 2, 1))
        return out


def replay_rollout(cell: CellModel, replay: Replay) -> Rollout:
    """The cell run over the replay's features, with its resets (reset_reason not empty)."""
    sensory = replay.require_sensory()
    rows = replay.at_stamps(sensory.stamp)
    resets = np.zeros(sensory.stamp.shape, dtype=bool)
    found = rows >= 0
    resets[found] = np.char.str_len(replay.reset_reason[rows[found]].astype(str)) > 0
    return cell.rollout(sensory.stamp, sensory.values, resets)


@dataclass(frozen=True)
class Smoothness:
    """Local Lipschitz constants of the state update along a drive."""

    stamp: np.ndarray  # (M,) frames analysed
    spectral_norm: np.ndarray  # (M,) ||J_t||_2
    row_sum_max: np.ndarray  # (S,) max_t sum_j |J_t[i, j]|
    eps: float

    @property
    def maximum(self) -> float:
        return float(np.max(self.spectral_norm)) if self.spectral_norm.size else float("nan")

    def sorted_curve(self) -> np.ndarray:
        """The per-frame constants in descending order."""
        return np.sort(self.spectral_norm)[::-1]

    def to_dict(self) -> dict[str, object]:
        curve = self.sorted_curve()
        return {
            "frames": int(self.spectral_norm.size),
            "max_spectral_norm": self.maximum,
            "median_spectral_norm": float(np.median(curve)) if curve.size else None,
            "p95_spectral_norm": float(np.percentile(curve, 95)) if curve.size else None,
            "row_sum_max": [float(v) for v in self.row_sum_max],
            "eps": self.eps,
        }


def smoothness(
    cell: CellModel,
    rollout: Rollout,
    every: int = 1,
    max_frames: int | None = None,
    eps: float = 1e-3,
) -> Smoothness:
    """Jacobian norms at every ``every``-th frame (at most ``max_frames``, evenly spread)."""
    index = np.arange(0, rollout.stamp.size, max(1, int(every)))
    if max_frames is not None and index.size > max_frames:
        index = index[np.linspace(0, index.size - 1, max_frames).round().astype(int)]
    jac = cell.jacobians(
        rollout.features[index], rollout.state_before[index], rollout.elapsed_s[index], eps=eps
    )
    norms = np.linalg.norm(jac, ord=2, axis=(1, 2)) if index.size else np.zeros(0)
    rows = np.abs(jac).sum(axis=2).max(axis=0) if index.size else np.zeros(cell.state_size)
    return Smoothness(stamp=rollout.stamp[index], spectral_norm=norms, row_sum_max=rows, eps=eps)


def plot_smoothness(
    result: Smoothness, labels: Sequence[str] | None = None, title: str = "Smoothness"
) -> Figure:
    """Sorted per-frame Lipschitz constants, their course over time, sorted per-unit maxima."""
    fig = new_figure(12.0, 3.8)
    sorted_ax, time_ax, unit_ax = fig.subplots(1, 3, width_ratios=(1.0, 1.4, 1.2))
    curve = result.sorted_curve()
    sorted_ax.plot(np.arange(1, curve.size + 1), curve, color="tab:purple")
    sorted_ax.set_xlabel("frame rank")
    sorted_ax.set_ylabel("||dh'/dh||_2")
    sorted_ax.set_title(f"{title}: sorted (max {result.maximum:.3g})", fontsize=10)
    t = result.stamp - (result.stamp[0] if result.stamp.size else 0.0)
    time_ax.plot(t, result.spectral_norm, lw=0.8, color="tab:purple")
    time_ax.set_xlabel("time (s)")
    time_ax.set_title("local Lipschitz constant over the drive", fontsize=10)
    order = np.argsort(-result.row_sum_max, kind="stable")
    names = list(labels) if labels is not None else [f"s{i}" for i in range(order.size)]
    unit_ax.bar(range(order.size), result.row_sum_max[order], color="tab:purple")
    unit_ax.set_xticks(range(order.size), [names[i] for i in order], rotation=90, fontsize=6)
    unit_ax.set_title("per unit: max_t sum_j |J_ij|", fontsize=10)
    return fig

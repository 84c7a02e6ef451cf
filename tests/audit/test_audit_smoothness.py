"""State Jacobians and Lipschitz constants of the exported cell, for any stateful kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from ncp_driver.audit import CellModel, load_replay, smoothness
from ncp_driver.audit.neurons import neuron_layout
from ncp_driver.audit.smoothness import plot_smoothness, replay_rollout
from ncp_driver.contract import ModelContract
from ncp_driver.preprocessing import PAPER_PREPROCESSING


def _tanh_cell(path: Path, w: np.ndarray, u: np.ndarray) -> Path:
    """frame -> features = mean over pixels; state_out = tanh(state @ W + features @ U)."""
    size = w.shape[0]
    nodes = [
        helper.make_node("ReduceMean", ["frame"], ["features"], axes=[1, 2], keepdims=0),
        helper.make_node("MatMul", ["state", "W"], ["hw"]),
        helper.make_node("MatMul", ["features", "U"], ["xu"]),
        helper.make_node("Add", ["hw", "xu"], ["pre"]),
        helper.make_node("Tanh", ["pre"], ["state_out"]),
        helper.make_node("Mul", ["elapsed_s", "zero"], ["unused"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tanh_cell",
        [
            helper.make_tensor_value_info("frame", TensorProto.FLOAT, ["b", 78, 200, 3]),
            helper.make_tensor_value_info("state", TensorProto.FLOAT, ["b", size]),
            helper.make_tensor_value_info("elapsed_s", TensorProto.FLOAT, ["b", 1]),
        ],
        [
            helper.make_tensor_value_info("state_out", TensorProto.FLOAT, ["b", size]),
            helper.make_tensor_value_info("features", TensorProto.FLOAT, ["b", 3]),
            helper.make_tensor_value_info("unused", TensorProto.FLOAT, ["b", 1]),
        ],
        initializer=[
            numpy_helper.from_array(w.astype(np.float32), "W"),
            numpy_helper.from_array(u.astype(np.float32), "U"),
            numpy_helper.from_array(np.zeros(1, np.float32), "zero"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    contract = ModelContract(
        kind="gru",
        state_size=size,
        neuron_count=size,
        feature_count=3,
        preprocessing=PAPER_PREPROCESSING,
    )
    helper.set_model_props(model, contract.to_metadata())
    onnx.save(model, str(path))
    return path


def test_finite_differences_match_the_analytic_jacobian(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    w, u = rng.normal(0, 0.8, (5, 5)), rng.normal(0, 1, (3, 5))
    cell = CellModel(_tanh_cell(tmp_path / "tanh.onnx", w, u))
    h = rng.normal(0, 0.5, (4, 5)).astype(np.float32)
    x = rng.normal(0, 1, (4, 3)).astype(np.float32)
    jac = cell.jacobians(x, h, np.full(4, 0.1))
    out = np.tanh(h.astype(np.float64) @ w + x @ u)
    expected = (1 - out**2)[:, :, None] * w.T[None]  # J[t, i, j] = (1 - out_i^2) W[j, i]
    assert np.allclose(jac, expected, atol=2e-4)
    stamps = np.arange(6) * 0.1
    rollout = cell.rollout(stamps, rng.normal(size=(6, 3)), np.zeros(6, bool))
    result = smoothness(cell, rollout)
    norms = [
        np.linalg.norm((1 - np.tanh(hb @ w + xb @ u) ** 2)[:, None] * w.T, 2)
        for hb, xb in zip(rollout.state_before.astype(np.float64), rollout.features, strict=True)
    ]
    assert np.allclose(result.spectral_norm, norms, rtol=1e-3)


def test_rollout_reproduces_the_replayed_potentials(replayed: Any) -> None:
    replay = load_replay(replayed.directory)
    cell = CellModel(replayed.model)
    rollout = replay_rollout(cell, replay)
    assert rollout.state_after.shape == replayed.neurons.shape
    # The replay reset the state where output.csv says so; the rollout follows it exactly.
    assert np.max(np.abs(rollout.state_after - replayed.neurons)) < 1e-5
    resets = np.flatnonzero(replay.reset_reason != "")
    assert resets.size and np.all(rollout.state_before[resets] == 0)


def test_lipschitz_along_the_replayed_drive(replayed: Any) -> None:
    replay = load_replay(replayed.directory)
    cell = CellModel(replayed.model)
    result = smoothness(cell, replay_rollout(cell, replay), every=2, max_frames=10)
    assert result.spectral_norm.shape == (10,) and result.row_sum_max.shape == (19,)
    curve = result.sorted_curve()
    assert np.all(np.diff(curve) <= 0) and curve[0] == result.maximum > 0
    # ||J||_2 <= sqrt(n) ||J||_inf, and ||J||_inf is the largest row sum.
    assert result.maximum <= np.sqrt(19) * result.row_sum_max.max() * (1 + 1e-9)
    summary = result.to_dict()
    assert summary["frames"] == 10 and len(summary["row_sum_max"]) == 19
    layout = neuron_layout(None, 19)
    fig = plot_smoothness(result, layout.labels)
    assert len(fig.axes) == 3


def test_any_stateful_kind_lstm(lstm_model: Path) -> None:
    cell = CellModel(lstm_model)
    assert cell.state_size == 128  # [h, c] of 64 units each
    rng = np.random.default_rng(1)
    h = rng.normal(0, 0.3, (2, 128)).astype(np.float32)
    jac = cell.jacobians(rng.random((2, 32)), h, np.full(2, 0.1))
    assert jac.shape == (2, 128, 128)
    cc = jac[:, 64:, 64:]  # dc'/dc = diag(forget gate), each in (0, 1)
    diag = np.diagonal(cc, axis1=1, axis2=2)
    assert np.all((diag > 0) & (diag < 1))
    assert np.max(np.abs(cc - diag[:, :, None] * np.eye(64))) < 1e-3


def test_rollout_rejects_bad_stamps(tmp_path: Path) -> None:
    cell = CellModel(_tanh_cell(tmp_path / "t.onnx", np.eye(2), np.ones((3, 2))))
    with pytest.raises(Exception, match="increase strictly"):
        cell.rollout(np.array([0.0, 0.1, 0.1]), np.zeros((3, 3)), np.zeros(3, bool))
    with pytest.raises(Exception, match="disagree"):
        cell.rollout(np.array([0.0, 0.1]), np.zeros((3, 3)), np.zeros(2, bool))

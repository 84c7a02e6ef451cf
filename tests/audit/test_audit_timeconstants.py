"""LTC time constants: the formula, the metadata round trip, and agreement with the ONNX cell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ncp_driver.audit import AuditError, LtcParameters, ltc_time_constants, time_constants
from ncp_driver.audit.neurons import neuron_layout
from ncp_driver.audit.smoothness import CellModel
from ncp_driver.audit.timeconstants import ltc_derivative, plot_time_constants
from ncp_driver.errors import ModelContractError
from ncp_driver.replay.subgraphs import load_model, metadata


def _random_params(units: int = 4, sensory: int = 3, seed: int = 0) -> LtcParameters:
    rng = np.random.default_rng(seed)
    mask = (rng.random((units, units)) < 0.5).astype(float)
    smask = (rng.random((sensory, units)) < 0.6).astype(float)
    return LtcParameters(
        cm=rng.uniform(0.1, 1, units),
        gleak=rng.uniform(0.5, 2, units),
        vleak=rng.uniform(-0.2, 0.2, units),
        w=rng.uniform(0.1, 1, (units, units)),
        sigma=rng.uniform(3, 8, (units, units)),
        mu=rng.uniform(0.3, 0.8, (units, units)),
        erev=rng.choice([-1.0, 1.0], (units, units)),
        mask=mask,
        sensory_w=rng.uniform(0.1, 1, (sensory, units)),
        sensory_sigma=rng.uniform(3, 8, (sensory, units)),
        sensory_mu=rng.uniform(0.3, 0.8, (sensory, units)),
        sensory_erev=rng.choice([-1.0, 1.0], (sensory, units)),
        sensory_mask=smask,
        input_w=rng.uniform(0.5, 2, sensory),
        input_b=rng.uniform(-0.1, 0.1, sensory),
        time_unit_s=0.05,
    )


def test_formula_against_a_plain_loop() -> None:
    p = _random_params()
    rng = np.random.default_rng(1)
    v = rng.normal(0.3, 0.5, (7, 4))
    feats = rng.normal(0.5, 0.5, (7, 3))
    tau = ltc_time_constants(p, v, feats)
    x = feats * p.input_w + p.input_b
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    for t in range(7):
        for i in range(4):
            g = p.gleak[i]
            for j in range(4):
                g += p.mask[j, i] * p.w[j, i] * sig(p.sigma[j, i] * (v[t, j] - p.mu[j, i]))
            for k in range(3):
                g += (
                    p.sensory_mask[k, i]
                    * p.sensory_w[k, i]
                    * sig(p.sensory_sigma[k, i] * (x[t, k] - p.sensory_mu[k, i]))
                )
            assert tau[t, i] == pytest.approx(p.cm[i] / g * 0.05, rel=1e-12)
    # Without features only the recurrent synapses count: every tau gets longer or stays.
    assert np.all(ltc_time_constants(p, v) >= tau)


def test_an_unconnected_neuron_has_tau_cm_over_gleak() -> None:
    units = 3
    zero = np.zeros((units, units))
    tau = time_constants(
        np.random.default_rng(0).normal(size=(5, units)),
        cm=np.array([1.0, 2.0, 0.5]),
        gleak=np.array([0.5, 1.0, 2.0]),
        w=np.ones((units, units)),
        sigma=zero + 4,
        mu=zero,
        mask=zero,
        time_unit_s=0.1,
    )
    assert np.allclose(tau, np.array([2.0, 2.0, 0.25]) * 0.1)


def test_shape_errors() -> None:
    p = _random_params()
    with pytest.raises(AuditError, match="has 4 neurons"):
        ltc_time_constants(p, np.zeros((3, 5)))
    with pytest.raises(AuditError, match="differ in frames"):
        ltc_time_constants(p, np.zeros((3, 4)), np.zeros((2, 3)))
    with pytest.raises(ModelContractError, match=r"must have shape \(4, 4\)"):
        LtcParameters(**{**p.__dict__, "mu": np.zeros((4, 3))})
    with pytest.raises(ModelContractError, match="or none"):
        LtcParameters(**{**p.__dict__, "sensory_mu": None})


def test_metadata_round_trip() -> None:
    p = _random_params()
    ((key, text),) = p.to_metadata().items()
    back = LtcParameters.from_metadata({key: text})
    assert back is not None
    for name in ("cm", "w", "sensory_mask", "input_b"):
        assert np.array_equal(getattr(back, name), getattr(p, name))
    assert back.time_unit_s == p.time_unit_s and back.ode_unfolds == p.ode_unfolds
    assert LtcParameters.from_metadata({}) is None
    with pytest.raises(ModelContractError, match="malformed LTC parameters"):
        LtcParameters.from_json('{"cm": [1, 2], "gleak": [1]}')


def test_metadata_parameters_describe_the_exported_cell(replayed: Any) -> None:
    """A tiny step of the ONNX cell moves each potential by dv/dt from the metadata's ODE."""
    params = LtcParameters.from_metadata(metadata(load_model(replayed.model)))
    if params is None:
        pytest.skip("the exporter writes no ncp_driver.ltc_parameters metadata")
    cell = CellModel(replayed.model)
    v = replayed.neurons[:-1].astype(np.float32)
    feats = replayed.features[1:]
    dt = 1e-3 * params.time_unit_s
    stepped = cell.step(feats, v, np.full(v.shape[0], dt))
    measured = (stepped.astype(np.float64) - v) / dt
    predicted = ltc_derivative(params, v, feats)
    scale = np.max(np.abs(predicted))
    assert scale > 0
    assert np.max(np.abs(measured - predicted)) < 0.02 * scale
    tau = ltc_time_constants(params, replayed.neurons, replayed.features)
    assert np.all(np.isfinite(tau)) and np.all(tau > 0)


def test_figure(replayed: Any) -> None:
    params = LtcParameters.from_metadata(metadata(load_model(replayed.model)))
    if params is None:
        pytest.skip("the exporter writes no ncp_driver.ltc_parameters metadata")
    tau = ltc_time_constants(params, replayed.neurons, replayed.features)
    layout = neuron_layout(None, 19)
    stamp = np.arange(tau.shape[0]) * 0.1
    fig = plot_time_constants(stamp, tau, layout)
    assert fig.axes[0].get_images()[0].get_array().shape == (19, tau.shape[0])


def test_replay_of_a_missing_model_path_is_clear(tmp_path: Path) -> None:
    from ncp_driver.replay.errors import ModelGraphError

    with pytest.raises(ModelGraphError, match="does not exist"):
        load_model(tmp_path / "missing.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"\x00garbage")
    with pytest.raises(ModelGraphError, match="not a readable ONNX model"):
        load_model(tmp_path / "junk.onnx")

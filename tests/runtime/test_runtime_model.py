"""SteeringModel: contract checks, providers, hash, state handling, both ways of running."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from runtime_models import ToyWeights, contract, reference_step, save, toy_model

from ncp_driver.errors import ModelContractError, ProviderError
from ncp_driver.preprocessing import Preprocessing
from ncp_driver.runtime import PipelineConfig, SteeringModel

CPU = PipelineConfig()


def frames(count: int, seed: int = 0) -> list[np.ndarray]:
    """Textured frames (a constant frame makes float32 ReduceMean drift by 1e-3)."""
    rng = np.random.default_rng(seed)
    return [
        (rng.random((78, 200, 3), dtype=np.float32) * rng.random(3, dtype=np.float32))
        for _ in range(count)
    ]


def test_loads_a_contract_following_model(toy_path: Path) -> None:
    model = SteeringModel.load(toy_path, CPU)
    assert model.contract.kind == "ncp" and model.contract.state_size == 8
    assert model.provider == "cpu"
    assert model.model_hash == hashlib.sha256(toy_path.read_bytes()).hexdigest()
    assert model.frame_input.shape == (1, 78, 200, 3)
    np.testing.assert_array_equal(model.state, np.zeros(8, np.float32))  # warm-up left no trace


@pytest.mark.parametrize("on_device", [False, True], ids=["host", "device-pingpong"])
def test_steps_match_the_reference_with_state_carried(toy_path: Path, on_device: bool) -> None:
    model = SteeringModel.load(toy_path, CPU, state_on_device=on_device)
    assert model.state_on_device is on_device
    weights = ToyWeights.make()
    state = np.zeros(8)
    for i, frame in enumerate(frames(40)):
        elapsed = 0.01 + 0.002 * i
        out = model.step(elapsed, frame)
        curvature, state, features = reference_step(weights, frame, state, elapsed)
        assert out.finite
        assert out.curvature == pytest.approx(curvature, abs=1e-5)
        np.testing.assert_allclose(out.neurons, state, atol=1e-5)
        np.testing.assert_allclose(out.features, features, atol=1e-5)
        np.testing.assert_allclose(model.state, state, atol=1e-5)
        if i == 20:
            model.reset_state()
            state = np.zeros(8)
            np.testing.assert_array_equal(model.state, state)


def test_host_and_device_runs_agree_through_resets_and_injected_state(toy_path: Path) -> None:
    host = SteeringModel.load(toy_path, CPU, state_on_device=False)
    device = SteeringModel.load(toy_path, CPU, state_on_device=True)
    injected = np.linspace(-0.5, 0.5, 8, dtype=np.float32)
    for i, frame in enumerate(frames(30, seed=1)):
        if i % 7 == 3:
            host.reset_state()
            device.reset_state()
        if i == 11:
            host.set_state(injected)
            device.set_state(injected)
            np.testing.assert_array_equal(device.state, injected)
        a, b = host.step(0.05, frame), device.step(0.05, frame)
        assert a.curvature == b.curvature
        np.testing.assert_array_equal(a.neurons, b.neurons)
        np.testing.assert_array_equal(host.state, device.state)


def test_frame_input_buffer_is_what_step_reads(toy_path: Path) -> None:
    model = SteeringModel.load(toy_path, CPU)
    frame = frames(1, seed=5)[0]
    model.frame_input[0] = frame
    via_buffer = model.step(0.03).curvature
    model.reset_state()
    assert model.step(0.03, frame).curvature == via_buffer


def test_stateless_model_runs(cnn_path: Path) -> None:
    model = SteeringModel.load(cnn_path, CPU)
    assert not model.contract.stateful and model.state.size == 0
    out1 = model.step(0.03, frames(1)[0])
    out2 = model.step(0.5, frames(1)[0])
    assert out1.finite and out1.curvature == out2.curvature  # no memory, no elapsed


def test_nan_outputs_are_flagged(nan_path: Path) -> None:
    model = SteeringModel.load(nan_path, CPU)
    assert model.step(0.03, np.full((78, 200, 3), 0.5, np.float32)).finite
    assert not model.step(0.03, np.full((78, 200, 3), 0.9, np.float32)).finite


def test_a_file_that_is_not_ours_is_refused(model_dir: Path) -> None:
    path = save(toy_model(metadata=False), model_dir / "foreign.onnx")
    with pytest.raises(ModelContractError, match="not an ncp_driver steering model"):
        SteeringModel.load(path, CPU)


def test_a_stateful_card_without_state_input_says_what_is_missing(model_dir: Path) -> None:
    path = save(toy_model(graph_inputs="stateless"), model_dir / "no_state.onnx")
    with pytest.raises(ModelContractError, match="declares kind ncp but has no input 'state'"):
        SteeringModel.load(path, CPU)


def test_a_stateless_card_with_a_state_input_is_refused(model_dir: Path) -> None:
    model = toy_model(metadata=contract("cnn"), graph_inputs="stateful")
    with pytest.raises(ModelContractError, match="stateless model must not take a state"):
        SteeringModel.from_bytes(model.SerializeToString(), CPU)


def test_card_and_graph_disagreeing_is_refused() -> None:
    model = toy_model(metadata=contract("ncp", state_size=6))
    with pytest.raises(ModelContractError, match=r"'state' has shape .* implies \[batch, 6\]"):
        SteeringModel.from_bytes(model.SerializeToString(), CPU, source="mismatch.onnx")


def test_input_size_must_match_the_preprocessing() -> None:
    spec = Preprocessing(out_width=100, out_height=40)
    model = toy_model(metadata=contract("ncp", spec=spec))  # graph built for 200 x 78
    with pytest.raises(ModelContractError, match="'frame' has shape"):
        SteeringModel.from_bytes(model.SerializeToString(), CPU)


def test_missing_and_garbage_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelContractError, match="cannot read the model"):
        SteeringModel.load(tmp_path / "absent.onnx", CPU)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00not a protobuf" * 10)
    with pytest.raises(ModelContractError, match="not an ONNX model onnxruntime can load"):
        SteeringModel.load(junk, CPU)


def test_a_missing_gpu_provider_fails_loudly(toy_path: Path) -> None:
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has CUDA")
    with pytest.raises(ProviderError, match=r"'cuda' .* was asked for"):
        SteeringModel.load(toy_path, PipelineConfig(providers=("cuda", "cpu")))
    with pytest.raises(ProviderError, match="none of the providers"):
        SteeringModel.load(
            toy_path, PipelineConfig(providers=("tensorrt",), allow_provider_fallback=True)
        )


def test_fallback_when_allowed_reports_the_provider_that_runs(toy_path: Path) -> None:
    config = PipelineConfig(providers=("tensorrt", "cuda", "cpu"), allow_provider_fallback=True)
    model = SteeringModel.load(toy_path, config)
    expected = "cuda" if "CUDAExecutionProvider" in ort.get_available_providers() else "cpu"
    if "TensorrtExecutionProvider" in ort.get_available_providers():
        expected = "tensorrt"
    assert model.provider == expected


@pytest.mark.parametrize("threads", [1, 2])
def test_thread_setting_reaches_the_session(toy_path: Path, threads: int) -> None:
    config = dataclasses.replace(CPU, intra_op_threads=threads, warmup_runs=0)
    model = SteeringModel.load(toy_path, config)
    assert model.session.get_session_options().intra_op_num_threads == threads


def test_set_state_checks_its_size(toy_path: Path) -> None:
    model = SteeringModel.load(toy_path, CPU)
    with pytest.raises(ModelContractError, match="state of 3 values"):
        model.set_state(np.zeros(3))

"""ONNX export: one checked file per kind, its metadata, parity with torch, its subgraphs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from ncps.torch import LTCCell, WiredCfCCell
from ncps.wirings import AutoNCP
from onnx.external_data_helper import uses_external_data

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
from ncp_driver.export import ExportError, ExportParityError, export_onnx
from ncp_driver.export.parity import parity_frames
from ncp_driver.preprocessing import PAPER_PREPROCESSING
from ncp_driver.training.head import ConvHead
from ncp_driver.training.networks import SteeringNetwork, build_model

torch.set_num_threads(1)

TOLERANCE = 1e-5
TRAINING_DATA = {"train": [{"name": "drive0.h5", "sha256": "ab" * 32, "size_bytes": 10}]}


def session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def card_of(path: Path) -> ModelContract:
    proto = onnx.load(str(path))
    return ModelContract.from_metadata({p.key: p.value for p in proto.metadata_props}, str(path))


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[SteeringNetwork, Path]]:
    """Lazily exported models per kind (each exported once for the module, parity checked)."""
    folder = tmp_path_factory.mktemp("onnx")
    cache: dict[str, tuple[SteeringNetwork, Path]] = {}

    class Lazy(dict):  # type: ignore[type-arg]
        def __missing__(self, kind: str) -> tuple[SteeringNetwork, Path]:
            model = build_model(kind, seed=11, frame_period_s=0.05).eval()
            # Perturb every parameter so the test does not rest on a symmetric initialisation.
            with torch.no_grad():
                generator = torch.Generator().manual_seed(5)
                for parameter in model.parameters():
                    if parameter.requires_grad:
                        parameter.mul_(1 + 0.05 * torch.randn(parameter.shape, generator=generator))
            model.apply_constraints()
            path = folder / f"{kind}.onnx"
            report = export_onnx(model, path, training_data=TRAINING_DATA)
            assert report.checked and report.parity_frames == 200
            assert report.max_scaled_diff is not None and report.max_scaled_diff <= TOLERANCE
            self[kind] = (model, path)
            return self[kind]

    cache = Lazy()
    return cache


def carried_sequence(model: SteeringNetwork, path: Path, frames: int = 60) -> dict[str, float]:
    """Largest |onnxruntime - torch| per output with each side carrying its own state."""
    sess = session(path)
    contract = card_of(path)
    images, periods, _ = parity_frames(frames, (78, 200, 3), seed=3)
    worst: dict[str, float] = {}
    state_np = np.zeros((1, contract.state_size), np.float32)
    state_torch = torch.zeros(1, contract.state_size)
    for i in range(frames):
        elapsed = np.array([[periods[i] * model.frame_period_s]], np.float32)
        feeds = {INPUT_FRAME: images[i : i + 1]}
        if contract.stateful:
            feeds |= {INPUT_STATE: state_np, INPUT_ELAPSED: elapsed}
        got = dict(zip(contract.output_names(), sess.run(None, feeds), strict=True))
        with torch.no_grad():
            values = model.step(
                torch.from_numpy(images[i : i + 1]), state_torch, torch.from_numpy(elapsed)
            )
        want = dict(
            zip(
                (OUTPUT_CURVATURE, OUTPUT_STATE, OUTPUT_NEURONS, OUTPUT_FEATURES),
                values,
                strict=True,
            )
        )
        for name, value in got.items():
            reference = want[name].numpy()
            scale = max(1.0, float(np.abs(reference).max(initial=0.0)))
            worst[name] = max(
                worst.get(name, 0.0), float(np.abs(value - reference).max(initial=0.0)) / scale
            )
        if contract.stateful:
            state_np, state_torch = got[OUTPUT_STATE], values[1]
    return worst


@pytest.mark.parametrize("kind", ["ncp", "cfc", "lstm", "cnn"])
def test_parity_over_a_carried_sequence(exported: dict, kind: str) -> None:
    model, path = exported[kind]
    worst = carried_sequence(model, path)
    assert max(worst.values()) <= TOLERANCE, worst


@pytest.mark.parametrize("kind", ["ncp", "cfc", "lstm", "cnn"])
def test_contract_inputs_outputs_and_single_file(exported: dict, kind: str) -> None:
    model, path = exported[kind]
    proto = onnx.load(str(path), load_external_data=False)
    contract = card_of(path)
    assert [i.name for i in proto.graph.input] == list(contract.input_names())
    assert [o.name for o in proto.graph.output] == list(contract.output_names())
    assert not any(uses_external_data(t) for t in proto.graph.initializer)
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(kind)) == [path.name]
    assert min(op.version for op in proto.opset_import if op.domain in ("", "ai.onnx")) >= 18
    shapes = {
        v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
        for v in [*proto.graph.input, *proto.graph.output]
    }
    assert shapes[INPUT_FRAME] == ["batch", 78, 200, 3]
    assert shapes[OUTPUT_CURVATURE] == ["batch", 1]
    assert shapes[OUTPUT_NEURONS] == ["batch", model.neuron_count]
    assert shapes[OUTPUT_FEATURES] == ["batch", model.feature_count]
    if kind == "cnn":
        assert INPUT_STATE not in shapes and OUTPUT_STATE not in shapes
    else:
        assert shapes[INPUT_STATE] == ["batch", model.state_size]
        assert shapes[INPUT_ELAPSED] == ["batch", 1]
        assert shapes[OUTPUT_STATE] == ["batch", model.state_size]


def test_metadata_describes_the_model(exported: dict) -> None:
    model, path = exported["ncp"]
    contract = card_of(path)
    assert contract.kind == "ncp" and contract.state_size == 19 and contract.neuron_count == 19
    assert contract.feature_count == 32 and contract.frame_period_s == pytest.approx(0.05)
    assert contract.preprocessing == PAPER_PREPROCESSING
    assert contract.output.unit == "1/m" and contract.output.training_scale == 1000.0
    assert contract.training_data == TRAINING_DATA
    assert contract.exporter == f"ncp_driver 0.1.0, torch {torch.__version__}"
    assert contract.wiring["synapse_counts"]["total"] == 252
    assert (
        contract.wiring["layers"]["motor"] == [0] and len(contract.wiring["layers"]["inter"]) == 12
    )
    assert contract.wiring["seed"] == 11 and contract.wiring["p_excitatory"] == 0.7
    assert np.array_equal(
        np.array(contract.wiring["adjacency"]), model.cell.wiring().adjacency_matrix
    )
    ltc = json.loads(contract.extra["ltc_parameters"])
    assert np.allclose(ltc["cm"], model.cell.cell._params["cm"].detach().numpy())
    assert ltc["time_unit_s"] == pytest.approx(0.05)
    assert card_of(exported["lstm"][1]).wiring["state_size"] == 128


def test_dynamic_batch_equals_single_frames(exported: dict) -> None:
    _, path = exported["ncp"]
    sess = session(path)
    rng = np.random.default_rng(0)
    frames = rng.random((3, 78, 200, 3), dtype=np.float32)
    state = rng.normal(0, 0.3, (3, 19)).astype(np.float32)
    elapsed = np.array([[0.05], [0.1], [0.02]], np.float32)
    batched = sess.run(None, {"frame": frames, "state": state, "elapsed_s": elapsed})
    for i in range(3):
        single = sess.run(
            None,
            {
                "frame": frames[i : i + 1],
                "state": state[i : i + 1],
                "elapsed_s": elapsed[i : i + 1],
            },
        )
        for b, s in zip(batched, single, strict=True):
            assert np.allclose(b[i : i + 1], s, atol=1e-6)


def test_elapsed_time_reaches_the_cell(exported: dict) -> None:
    model, path = exported["ncp"]
    sess = session(path)
    frame = np.random.default_rng(1).random((1, 78, 200, 3), dtype=np.float32)
    state = np.full((1, 19), 0.8, np.float32)
    runs = {}
    for periods in (1.0, 2.0):
        elapsed = np.array([[periods * model.frame_period_s]], np.float32)
        runs[periods] = sess.run(
            ["state_out"], {"frame": frame, "state": state, "elapsed_s": elapsed}
        )[0]
        with torch.no_grad():
            expected = model.step(
                torch.from_numpy(frame), torch.from_numpy(state), torch.from_numpy(elapsed)
            )[1]
        assert np.abs(runs[periods] - expected.numpy()).max() <= TOLERANCE
    # The LTC starts with time constants well below a frame period (the paper's cm_t 0.5), so
    # the effect is small at first, but far above the export's numerical error.
    assert np.abs(runs[1.0] - runs[2.0]).max() > 10 * TOLERANCE


def test_head_and_cell_subgraphs_match_the_whole_graph(exported: dict, tmp_path: Path) -> None:
    """A replay batches the head over many frames, then steps only the cell per frame."""
    _, path = exported["ncp"]
    head_path, cell_path = tmp_path / "head.onnx", tmp_path / "cell.onnx"
    onnx.utils.extract_model(str(path), str(head_path), [INPUT_FRAME], [OUTPUT_FEATURES])
    onnx.utils.extract_model(
        str(path),
        str(cell_path),
        [OUTPUT_FEATURES, INPUT_STATE, INPUT_ELAPSED],
        [OUTPUT_CURVATURE, OUTPUT_STATE, OUTPUT_NEURONS],
    )
    head, cell, whole = session(head_path), session(cell_path), session(path)
    head_nodes = len(onnx.load(str(head_path)).graph.node)
    cell_nodes = len(onnx.load(str(cell_path)).graph.node)
    assert head_nodes + cell_nodes <= len(onnx.load(str(path)).graph.node) + 1  # no duplication
    images, periods, _ = parity_frames(40, (78, 200, 3), seed=4)
    elapsed = (periods * 0.05).astype(np.float32).reshape(-1, 1)
    features = head.run(None, {INPUT_FRAME: images})[0]  # one batched call
    state_split = state_whole = np.zeros((1, 19), np.float32)
    for i in range(len(images)):
        curvature, state_split, neurons = cell.run(
            None,
            {
                OUTPUT_FEATURES: features[i : i + 1],
                INPUT_STATE: state_split,
                INPUT_ELAPSED: elapsed[i : i + 1],
            },
        )
        w_curvature, state_whole, w_neurons, w_features = whole.run(
            None,
            {
                INPUT_FRAME: images[i : i + 1],
                INPUT_STATE: state_whole,
                INPUT_ELAPSED: elapsed[i : i + 1],
            },
        )
        assert np.abs(features[i : i + 1] - w_features).max() <= TOLERANCE * max(
            1.0, np.abs(w_features).max()
        )
        assert np.abs(curvature - w_curvature).max() <= TOLERANCE
        assert np.abs(neurons - w_neurons).max() <= TOLERANCE
        assert np.abs(state_split - state_whole).max() <= TOLERANCE


@pytest.mark.parametrize("cell_kind", ["ltc", "cfc"])
def test_a_model_built_directly_from_ncps_cells_exports(tmp_path: Path, cell_kind: str) -> None:
    torch.manual_seed(0)
    wiring = AutoNCP(16, 1, seed=3)
    cell = LTCCell(wiring, in_features=32) if cell_kind == "ltc" else WiredCfCCell(32, wiring)
    model = SteeringNetwork(ConvHead(), cell, kind="ncp" if cell_kind == "ltc" else "cfc")
    report = export_onnx(model, tmp_path / "ncps.onnx", parity_frames=50)
    assert report.max_scaled_diff is not None and report.max_scaled_diff <= TOLERANCE
    contract = card_of(tmp_path / "ncps.onnx")
    assert contract.state_size == 16 and contract.wiring["type"] == "AutoNCP"
    assert max(carried_sequence(model, tmp_path / "ncps.onnx", frames=20).values()) <= TOLERANCE


def test_a_parity_failure_writes_nothing(tmp_path: Path) -> None:
    model = build_model("gru")
    target = tmp_path / "gru.onnx"
    with pytest.raises(ExportParityError, match=r"gru\.onnx: onnxruntime and torch differ"):
        export_onnx(model, target, tolerance=1e-12, audit_tolerance=1e-12, parity_frames=5)
    assert list(tmp_path.iterdir()) == []


def test_only_steering_networks_are_exported(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="wrap the head and cell in"):
        export_onnx(torch.nn.Linear(2, 1), tmp_path / "x.onnx")  # type: ignore[arg-type]

"""Small ONNX models that follow (or break) the model contract, built with onnx.helper, and a
numpy reference of the same maths.

The recurrent toy: m = mean colour of the frame (3), features = softsign(m Wf + bf) (F),
state_out = state + RATE * elapsed * (softsign(state A + features B) - state) (S), neurons = state_out,
curvature = state_out c. The NaN variant adds 0 * sqrt(threshold - mean(frame)) to the curvature
and the state, which is NaN once the frame's mean exceeds the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ncp_driver.contract import ModelContract
from ncp_driver.preprocessing import PAPER_PREPROCESSING, Preprocessing

RATE = 1.5  # RATE x max_elapsed_s < 1: a stable Euler step


@dataclass(frozen=True)
class ToyWeights:
    wf: np.ndarray
    bf: np.ndarray
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray

    @classmethod
    def make(cls, state_size: int = 8, features: int = 32, seed: int = 0) -> ToyWeights:
        rng = np.random.default_rng(seed)
        return cls(
            wf=rng.normal(0, 2, (3, features)).astype(np.float32),
            bf=rng.normal(0, 0.5, features).astype(np.float32),
            a=rng.normal(0, 0.4, (state_size, state_size)).astype(np.float32),
            b=rng.normal(0, 0.3, (features, state_size)).astype(np.float32),
            c=rng.normal(0, 1.0, (state_size, 1)).astype(np.float32),
        )


def softsign(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.abs(x))


def reference_step(
    w: ToyWeights, frame: np.ndarray, state: np.ndarray, elapsed: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """(curvature, state_out, features) of the toy for one (H, W, 3) frame in [0, 1]."""
    m = frame.reshape(-1, 3).astype(np.float64).mean(0)
    features = softsign(m @ w.wf + w.bf)
    target = softsign(state @ w.a + features @ w.b)
    new = state + RATE * elapsed * (target - state)
    return float(new @ w.c[:, 0]), new, features


def contract(
    kind: str = "ncp",
    state_size: int = 8,
    features: int = 32,
    spec: Preprocessing = PAPER_PREPROCESSING,
) -> ModelContract:
    stateful = kind != "cnn"
    return ModelContract(
        kind=kind,
        state_size=state_size if stateful else 0,
        neuron_count=state_size,
        feature_count=features,
        preprocessing=spec,
        exporter="tests/runtime/runtime_models.py",
    )


def toy_model(
    weights: ToyWeights | None = None,
    *,
    kind: str = "ncp",
    nan_above: float | None = None,
    metadata: ModelContract | bool | None = True,
    graph_inputs: str = "auto",
    spec: Preprocessing = PAPER_PREPROCESSING,
) -> onnx.ModelProto:
    """The toy as an ONNX model. ``graph_inputs="stateless"`` builds the stateless graph even
    for a stateful contract (a file missing its state); ``metadata=False`` writes none."""
    w = weights or ToyWeights.make()
    state_size, features = w.a.shape[0], w.wf.shape[1]
    the_card = contract(kind, state_size, features, spec) if metadata is True else metadata
    stateful = kind != "cnn" if graph_inputs == "auto" else graph_inputs == "stateful"
    h, wd, _ = spec.input_shape
    f32 = TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info("frame", f32, ["batch", h, wd, 3])]
    outputs = [helper.make_tensor_value_info("curvature", f32, ["batch", 1])]
    inits = [
        numpy_helper.from_array(value, name)
        for name, value in (
            ("wf", w.wf), ("bf", w.bf), ("A", w.a), ("B", w.b), ("c", w.c),
            ("axes_hw", np.array([1, 2], np.int64)), ("rate", np.array(RATE, np.float32)),
        )
    ]  # fmt: skip
    if nan_above is not None:
        inits += [
            numpy_helper.from_array(np.array([1], np.int64), "axes_c"),
            numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
            numpy_helper.from_array(np.array(nan_above, np.float32), "threshold"),
        ]
    n = helper.make_node
    nodes = [
        n("ReduceMean", ["frame", "axes_hw"], ["m"], keepdims=0),
        n("MatMul", ["m", "wf"], ["fm"]),
        n("Add", ["fm", "bf"], ["fa"]),
        n("Softsign", ["fa"], ["features"]),
    ]
    if stateful:
        inputs += [
            helper.make_tensor_value_info("state", f32, ["batch", state_size]),
            helper.make_tensor_value_info("elapsed_s", f32, ["batch", 1]),
        ]
        nodes += [
            n("MatMul", ["state", "A"], ["sa"]),
            n("MatMul", ["features", "B"], ["fb"]),
            n("Add", ["sa", "fb"], ["pre"]),
            n("Softsign", ["pre"], ["target"]),
            n("Sub", ["target", "state"], ["diff"]),
            n("Mul", ["elapsed_s", "rate"], ["k"]),
            n("Mul", ["diff", "k"], ["step"]),
            n("Add", ["state", "step"], ["s1"]),
        ]
    else:
        inits = [i for i in inits if i.name not in ("A", "rate")]
        nodes += [n("MatMul", ["features", "B"], ["fb"]), n("Softsign", ["fb"], ["s1"])]
    if nan_above is not None:
        nodes += [
            n("ReduceMean", ["m", "axes_c"], ["mean_all"], keepdims=1),
            n("Sub", ["threshold", "mean_all"], ["room"]),
            n("Sqrt", ["room"], ["root"]),
            n("Mul", ["root", "zero"], ["poison"]),
            n("Add", ["s1", "poison"], ["s2"]),
        ]
    else:
        nodes.append(n("Identity", ["s1"], ["s2"]))
    nodes += [n("Identity", ["s2"], ["neurons"]), n("MatMul", ["s2", "c"], ["curvature"])]
    outputs += [
        helper.make_tensor_value_info("neurons", f32, ["batch", state_size]),
        helper.make_tensor_value_info("features", f32, ["batch", features]),
    ]
    if stateful:
        nodes.append(n("Identity", ["s2"], ["state_out"]))
        outputs.insert(1, helper.make_tensor_value_info("state_out", f32, ["batch", state_size]))
    graph = helper.make_graph(nodes, "toy_steering", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    if the_card:
        helper.set_model_props(model, the_card.to_metadata())
    onnx.checker.check_model(model)
    return model


def save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save(model, str(path))
    return path

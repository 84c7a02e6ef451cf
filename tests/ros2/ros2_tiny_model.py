"""A tiny ONNX model that follows the steering contract (ncp_driver/contract.py), for ROS tests.

Built with ``onnx.helper`` so that it is small, deterministic and needs no torch. What it
computes (per batch row, ``m`` = mean of the frame):

- ``state_out = state + elapsed_s`` (so a reset is visible: the state restarts from zero);
- ``curvature = 0.1 * (m - 0.5) + 0.01 * mean(state_out) + 0 * log(m)``: it depends on the
  picture and on the state, and an all-black frame (``m = 0``) gives NaN (``0 * -inf``);
- ``neurons = state_out`` (19 values), ``features = m * [1, 2, ..., 32]``.

``ros2_ws/src/ncp_driver_ros/test/tiny_steering.onnx`` is this model written by ``main()``; a
test checks the committed file is what this module builds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

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
from ncp_driver.preprocessing import Preprocessing

STATE_SIZE = 19
FEATURES = 32
COMMITTED = (
    Path(__file__).resolve().parents[2]
    / "ros2_ws"
    / "src"
    / "ncp_driver_ros"
    / "test"
    / "tiny_steering.onnx"
)


def tiny_card() -> ModelContract:
    return ModelContract(
        kind="ncp",
        state_size=STATE_SIZE,
        neuron_count=STATE_SIZE,
        feature_count=FEATURES,
        preprocessing=Preprocessing(),
        exporter="tests/ros2/ros2_tiny_model.py (a test model, not a driving model)",
    )


def build_tiny_model() -> onnx.ModelProto:
    """The model as an ONNX proto (opset 17, IR version 8: loads in onnxruntime >= 1.14)."""
    contract = tiny_card()
    height, width, _ = contract.preprocessing.input_shape
    inputs = [
        helper.make_tensor_value_info(INPUT_FRAME, TensorProto.FLOAT, ["batch", height, width, 3]),
        helper.make_tensor_value_info(INPUT_STATE, TensorProto.FLOAT, ["batch", STATE_SIZE]),
        helper.make_tensor_value_info(INPUT_ELAPSED, TensorProto.FLOAT, ["batch", 1]),
    ]
    outputs = [
        helper.make_tensor_value_info(OUTPUT_CURVATURE, TensorProto.FLOAT, ["batch", 1]),
        helper.make_tensor_value_info(OUTPUT_STATE, TensorProto.FLOAT, ["batch", STATE_SIZE]),
        helper.make_tensor_value_info(OUTPUT_NEURONS, TensorProto.FLOAT, ["batch", STATE_SIZE]),
        helper.make_tensor_value_info(OUTPUT_FEATURES, TensorProto.FLOAT, ["batch", FEATURES]),
    ]

    def const(name: str, value: np.ndarray) -> onnx.TensorProto:
        return numpy_helper.from_array(value, name)

    initializers = [
        const("shape_b1", np.array([-1, 1], dtype=np.int64)),
        const("half", np.array(0.5, dtype=np.float32)),
        const("gain_frame", np.array(0.1, dtype=np.float32)),
        const("gain_state", np.array(0.01, dtype=np.float32)),
        const("zero", np.array(0.0, dtype=np.float32)),
        const("ramp", np.arange(1, FEATURES + 1, dtype=np.float32).reshape(1, FEATURES)),
    ]
    nodes = [
        helper.make_node("ReduceMean", [INPUT_FRAME], ["m4"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Reshape", ["m4", "shape_b1"], ["m"]),
        helper.make_node("Add", [INPUT_STATE, INPUT_ELAPSED], [OUTPUT_STATE]),
        helper.make_node("Identity", [OUTPUT_STATE], [OUTPUT_NEURONS]),
        helper.make_node("Sub", ["m", "half"], ["m_centred"]),
        helper.make_node("Mul", ["m_centred", "gain_frame"], ["frame_term"]),
        helper.make_node("ReduceMean", [OUTPUT_STATE], ["state_mean"], axes=[1], keepdims=1),
        helper.make_node("Mul", ["state_mean", "gain_state"], ["state_term"]),
        helper.make_node("Log", ["m"], ["log_m"]),
        helper.make_node("Mul", ["log_m", "zero"], ["nan_term"]),
        helper.make_node("Add", ["frame_term", "state_term"], ["sum1"]),
        helper.make_node("Add", ["sum1", "nan_term"], [OUTPUT_CURVATURE]),
        helper.make_node("MatMul", ["m", "ramp"], [OUTPUT_FEATURES]),
    ]
    graph = helper.make_graph(nodes, "tiny_steering", inputs, outputs, initializers)
    model = helper.make_model(
        graph,
        producer_name="ncp_driver tests/ros2",
        opset_imports=[helper.make_opsetid("", 17)],
    )
    model.ir_version = 8
    helper.set_model_props(model, contract.to_metadata())
    onnx.checker.check_model(model)
    return model


def tiny_model_bytes() -> bytes:
    return build_tiny_model().SerializeToString()


def write_tiny_model(path: Path) -> Path:
    path = Path(path)
    path.write_bytes(tiny_model_bytes())
    return path


def main(argv: list[str] | None = None) -> int:
    """Write the model to the path given, or refresh the committed copy."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else COMMITTED
    write_tiny_model(target)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Cutting an exported model's ONNX graph into pieces, for the offline tools (needs ``onnx``).

The replay batches the head and steps the cell; the audit adds the conv activations
(VisualBackProp) and differentiates the cell (Lipschitz constants).

* the **head** graph: ``frame`` -> ``features`` plus the activation (ReLU) after each
  convolution of the conv head, in graph order (VisualBackProp);
* the **cell** graph: (``features``, ``state``, ``elapsed_s``) -> ``state_out`` (Jacobians).

Only the contract's tensor names are relied on; node names and initializer names are whatever
the exporter chose.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import onnx
from onnx import ModelProto, NodeProto, TensorProto, ValueInfoProto, helper, shape_inference

from ncp_driver.contract import (
    INPUT_ELAPSED,
    INPUT_FRAME,
    INPUT_STATE,
    OUTPUT_FEATURES,
    OUTPUT_STATE,
    ModelContract,
)
from ncp_driver.replay.errors import MissingModelGraphError, ModelGraphError

__all__ = [
    "ACTIVATION_OPS",
    "CellGraph",
    "HeadGraph",
    "ModelGraphError",
    "cell_graph",
    "conv_activations",
    "extract",
    "features_tensor",
    "head_graph",
    "load_model",
    "metadata",
    "read_contract",
    "split_step_graph",
]


# Activation ops accepted after a convolution, and ops allowed between the two.
ACTIVATION_OPS = ("Relu", "LeakyRelu", "Elu", "Selu", "Relu6", "Clip")
_PASS_THROUGH = ("Add", "BatchNormalization", "Identity", "Mul")


def load_model(path: Path | str) -> ModelProto:
    """Load an ONNX file (with its external data, if any)."""
    path = Path(path)
    if not path.is_file():
        raise MissingModelGraphError(f"model {path} does not exist")
    try:
        return onnx.load(str(path))
    except Exception as exc:  # onnx raises DecodeError, OSError, ... depending on the damage
        raise ModelGraphError(f"{path} is not a readable ONNX model: {exc}") from exc


def metadata(model: ModelProto) -> dict[str, str]:
    return {prop.key: prop.value for prop in model.metadata_props}


def read_contract(model: ModelProto, source: str = "model") -> ModelContract:
    """The model's :class:`ModelContract` (raises the core's ``ModelContractError`` if invalid)."""
    return ModelContract.from_metadata(metadata(model), source=source)


def _producers(model: ModelProto) -> dict[str, int]:
    return {name: i for i, node in enumerate(model.graph.node) for name in node.output if name}


def _consumers(model: ModelProto) -> dict[str, list[int]]:
    users: dict[str, list[int]] = {}
    for i, node in enumerate(model.graph.node):
        for name in node.input:
            users.setdefault(name, []).append(i)
    return users


def _ancestors(model: ModelProto, outputs: Iterable[str], stop: Iterable[str]) -> set[int]:
    """Indices of the nodes needed to compute ``outputs`` from the tensors in ``stop``."""
    producers = _producers(model)
    stop_set = set(stop)
    needed: set[int] = set()
    stack = [name for name in outputs if name not in stop_set]
    while stack:
        name = stack.pop()
        index = producers.get(name)
        if index is None or index in needed:
            continue
        needed.add(index)
        stack.extend(n for n in model.graph.node[index].input if n and n not in stop_set)
    return needed


def _value_infos(model: ModelProto) -> dict[str, ValueInfoProto]:
    try:
        inferred = shape_inference.infer_shapes(model)
    except Exception:  # shape inference is a convenience here; unknown shapes are fine
        inferred = model
    infos = {v.name: v for v in inferred.graph.value_info}
    infos.update({v.name: v for v in inferred.graph.input})
    infos.update({v.name: v for v in inferred.graph.output})
    return infos


def extract(model: ModelProto, inputs: Sequence[str], outputs: Sequence[str]) -> ModelProto:
    """The subgraph computing ``outputs`` from ``inputs`` (and initializers), as a new model.

    Raises :class:`ModelGraphError` when the outputs also depend on another graph input.
    """
    graph = model.graph
    initializers = {t.name for t in graph.initializer}
    known = _producers(model)
    missing = [
        n
        for n in (*inputs, *outputs)
        if n not in known and n not in initializers and n not in {i.name for i in graph.input}
    ]
    if missing:
        raise ModelGraphError(f"the model has no tensors named {missing}")
    needed = sorted(_ancestors(model, outputs, inputs))
    nodes = [graph.node[i] for i in needed]
    available = set(inputs) | initializers | {o for node in nodes for o in node.output}
    outer = {i.name for i in graph.input} - set(inputs)
    for node in nodes:
        for name in _node_inputs(node):
            if name and name not in available:
                where = "graph input" if name in outer else "tensor"
                raise ModelGraphError(
                    f"cannot cut the graph at {list(inputs)}: node {node.name or node.op_type} "
                    f"also needs the {where} {name!r}"
                )
    used = {name for node in nodes for name in _node_inputs(node)}
    infos = _value_infos(model)
    graph_out = helper.make_graph(
        nodes,
        f"{graph.name}_{'_'.join(outputs)[:40]}",
        [_info(infos, name) for name in inputs],
        [_info(infos, name) for name in outputs],
        initializer=[t for t in graph.initializer if t.name in used],
    )
    sub = helper.make_model(graph_out, opset_imports=list(model.opset_import))
    sub.ir_version = model.ir_version
    sub.functions.extend(model.functions)
    for key, value in metadata(model).items():
        sub.metadata_props.add(key=key, value=value)
    return sub


def _node_inputs(node: NodeProto) -> list[str]:
    """A node's inputs including names its subgraphs (If/Loop/Scan bodies) take from outside."""
    names = [n for n in node.input if n]
    for attr in node.attribute:
        bodies = list(attr.graphs) + ([attr.g] if attr.HasField("g") else [])
        for body in bodies:
            local = {i.name for i in body.input} | {t.name for t in body.initializer}
            local |= {o for inner in body.node for o in inner.output}
            names += [n for inner in body.node for n in _node_inputs(inner) if n not in local]
    return names


def _info(infos: dict[str, ValueInfoProto], name: str) -> ValueInfoProto:
    if name in infos:
        return infos[name]
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, None)


def conv_activations(model: ModelProto, until: str = OUTPUT_FEATURES) -> list[str]:
    """The activation output after each convolution that ``until`` depends on, in graph order."""
    graph_inputs = {i.name for i in model.graph.input}
    needed = _ancestors(model, [until], graph_inputs)
    consumers = _consumers(model)
    found: list[str] = []
    for index in sorted(needed):
        node = model.graph.node[index]
        if node.op_type != "Conv":
            continue
        activation = _activation_after(model, consumers, node.output[0])
        if activation is None:
            raise ModelGraphError(
                f"convolution {node.name or index} feeds no activation ({', '.join(ACTIVATION_OPS)})"
                ": VisualBackProp needs the activation after each conv layer"
            )
        found.append(activation)
    if not found:
        raise ModelGraphError(f"the model has no convolution feeding {until!r}")
    return found


def _activation_after(model: ModelProto, consumers: dict[str, list[int]], name: str) -> str | None:
    """The activation output reached from ``name`` through single-use pass-through ops."""
    for _ in range(4):  # Conv -> [Add / BatchNorm / Mul / Identity] -> activation
        users = [model.graph.node[i] for i in consumers.get(name, [])]
        if len(users) != 1:
            return None
        if users[0].op_type in ACTIVATION_OPS:
            return str(users[0].output[0])
        if users[0].op_type not in _PASS_THROUGH:
            return None
        name = users[0].output[0]
    return None


@dataclass(frozen=True)
class HeadGraph:
    """``frame`` -> ``features`` and each conv layer's activation (shallowest first)."""

    model: ModelProto
    activations: tuple[str, ...]


def head_graph(model: ModelProto) -> HeadGraph:
    activations = conv_activations(model)
    sub = extract(model, [INPUT_FRAME], [OUTPUT_FEATURES, *activations])
    return HeadGraph(model=sub, activations=tuple(activations))


@dataclass(frozen=True)
class CellGraph:
    """(features, state, elapsed_s) -> state_out; ``features_input`` is the name to feed."""

    model: ModelProto
    features_input: str


def features_tensor(model: ModelProto) -> str:
    """The tensor where the conv head hands its features to the cell.

    The exporter may expose ``features`` through Identity nodes: this is the real tensor.
    """
    producers = _producers(model)
    cut = OUTPUT_FEATURES
    while cut in producers and model.graph.node[producers[cut]].op_type == "Identity":
        cut = model.graph.node[producers[cut]].input[0]
    return cut


def cell_graph(model: ModelProto) -> CellGraph:
    """The recurrent cell alone, cut where the conv head hands over its features."""
    graph_inputs = {i.name for i in model.graph.input}
    if INPUT_STATE not in graph_inputs or INPUT_ELAPSED not in graph_inputs:
        raise ModelGraphError(
            f"the model has no {INPUT_STATE!r} / {INPUT_ELAPSED!r} inputs: it is not recurrent, "
            "so it has no state-transition dynamics to analyse"
        )
    cut = features_tensor(model)
    sub = extract(model, [cut, INPUT_STATE, INPUT_ELAPSED], [OUTPUT_STATE])
    return CellGraph(model=sub, features_input=cut)


def split_step_graph(model: ModelProto) -> tuple[ModelProto, CellGraph]:
    """The step graph in two: the head (``frame`` -> ``features``, any batch) and the rest.

    The second takes the features tensor (``CellGraph.features_input``) and, for a recurrent
    model, ``state`` and ``elapsed_s``, and gives every other output of the step graph. Running
    the head over a batch and the rest frame by frame computes what the whole graph computes.
    """
    contract = read_contract(model)
    cut = features_tensor(model)
    head = extract(model, [INPUT_FRAME], [OUTPUT_FEATURES])
    inputs = [cut, INPUT_STATE, INPUT_ELAPSED] if contract.stateful else [cut]
    outputs = [name for name in contract.output_names() if name != OUTPUT_FEATURES]
    return head, CellGraph(model=extract(model, inputs, outputs), features_input=cut)

"""A trained network to one self-describing ONNX file, checked against torch before it appears.

The file holds the whole model (no external data), follows :mod:`ncp_driver.contract` and
carries a :class:`~ncp_driver.contract.ModelContract` in its ``metadata_props``. It is written
under a temporary name, checked with the ONNX checker and run with onnxruntime against the
torch model over a carried 200-frame sequence; only when the largest difference is within the
tolerance is it renamed to its final name.

Exporter: ``torch.onnx.export(dynamo=True)`` (torch.export based, the default since torch 2.9)
gives a clean single-file opset-18 graph within about 1e-6 of torch for every kind; the
TorchScript exporter (``dynamo=False``, deprecated in torch 2.9 but still present) is kept as
``exporter="torchscript"`` for environments where torch.export fails.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx
import torch

import ncp_driver
from ncp_driver.atomic import partial_path, remove_stale_partials
from ncp_driver.contract import META_PREFIX, OUTPUT_CURVATURE, ModelContract
from ncp_driver.export.errors import ExportError, ExportParityError
from ncp_driver.export.parity import run_parity
from ncp_driver.export.step_module import step_graph
from ncp_driver.ltc_parameters import LTC_METADATA_KEY, LtcParameters
from ncp_driver.preprocessing import PAPER_PREPROCESSING, Preprocessing
from ncp_driver.training.cells import LTCStep
from ncp_driver.training.networks import SteeringNetwork

__all__ = [
    "DEFAULT_OPSET",
    "EXPORTERS",
    "ExportError",
    "ExportParityError",
    "ExportReport",
    "export_onnx",
    "make_contract",
]

DEFAULT_OPSET = 18
DEFAULT_TOLERANCE = 1e-5  # the steering output, curvature in 1/m
# The audit outputs (state, neurons, features), scaled (absolute within [-1, 1], relative above).
# A trained head's features carry float32's relative error (about 1e-6) into the LTC's sensory
# sigmoids (gain sigma up to ~10), so a trained NCP's potentials can drift by ~1e-4 over 200
# carried frames while its curvature stays within 1e-7 1/m: they are held to this instead.
DEFAULT_AUDIT_TOLERANCE = 1e-3
EXPORTERS = ("dynamo", "torchscript")


@dataclass(frozen=True)
class ExportReport:
    """What :func:`export_onnx` wrote and how well it matches torch."""

    path: Path
    contract: ModelContract
    exporter: str
    opset: int
    checked: bool
    max_abs_diff: float | None = None
    max_scaled_diff: float | None = None
    per_output: dict[str, float] = field(default_factory=dict)
    parity_frames: int = 0
    size_bytes: int = 0

    def summary(self) -> str:
        lines = [
            f"wrote {self.path} ({self.size_bytes / 1e6:.2f} MB, kind {self.contract.kind}, "
            f"state {self.contract.state_size}, opset {self.opset}, exporter {self.exporter})"
        ]
        if self.checked and self.max_abs_diff is not None:
            lines.append(
                f"onnx checker passed; onnxruntime vs torch over {self.parity_frames} frames "
                f"(state carried): max abs diff {self.max_abs_diff:.3g}, "
                f"scaled {self.max_scaled_diff:.3g}"
            )
            lines += [f"  {name}: {diff:.3g}" for name, diff in self.per_output.items()]
        return "\n".join(lines)


def exporter_name() -> str:
    return f"ncp_driver {ncp_driver.__version__}, torch {torch.__version__}"


def ltc_parameters(model: SteeringNetwork) -> dict[str, str]:
    """The LTC's parameters as the audit reads them (tau = cm / conductance), if it has an LTC."""
    if not isinstance(model.cell, LTCStep):
        return {}
    cell = model.cell.cell
    p = {name: value.detach().cpu().numpy() for name, value in cell._params.items()}
    params = LtcParameters(
        cm=p["cm"],
        gleak=p["gleak"],
        vleak=p["vleak"],
        w=p["w"],
        sigma=p["sigma"],
        mu=p["mu"],
        erev=p["erev"],
        mask=p["sparsity_mask"],
        sensory_w=p["sensory_w"],
        sensory_sigma=p["sensory_sigma"],
        sensory_mu=p["sensory_mu"],
        sensory_erev=p["sensory_erev"],
        sensory_mask=p["sensory_sparsity_mask"],
        input_w=p.get("input_w"),
        input_b=p.get("input_b"),
        ode_unfolds=int(cell._ode_unfolds),
        time_unit_s=model.frame_period_s,
    )
    return {LTC_METADATA_KEY.removeprefix(META_PREFIX): params.to_json()}


def make_contract(
    model: SteeringNetwork,
    preprocessing: Preprocessing = PAPER_PREPROCESSING,
    training_data: dict[str, Any] | None = None,
    extra: dict[str, str] | None = None,
) -> ModelContract:
    """The metadata contract for ``model`` (stored in the ONNX file by :func:`export_onnx`)."""
    return ModelContract(
        kind=model.kind,
        state_size=model.state_size if model.stateful else 0,
        neuron_count=model.neuron_count,
        feature_count=model.feature_count,
        preprocessing=preprocessing,
        wiring=model.describe_wiring(),
        training_data=dict(training_data or {}),
        exporter=exporter_name(),
        frame_period_s=model.frame_period_s,
        extra=dict(extra or {}),
    )


def _example_inputs(
    model: SteeringNetwork, shape: tuple[int, int, int]
) -> tuple[torch.Tensor, ...]:
    batch = 2  # not 1: a size-1 example would be specialised by torch.export
    frame = torch.rand(batch, *shape, generator=torch.Generator().manual_seed(0))
    if not model.stateful:
        return (frame,)
    state = torch.zeros(batch, model.state_size)
    elapsed = torch.full((batch, 1), model.frame_period_s)
    return (frame, state, elapsed)


def _to_proto(
    model: SteeringNetwork, contract: ModelContract, exporter: str, opset: int
) -> onnx.ModelProto:
    graph = step_graph(model).eval()
    args = _example_inputs(model, contract.preprocessing.input_shape)
    inputs = list(contract.input_names())
    outputs = list(contract.output_names())
    if exporter == "dynamo":
        batch = torch.export.Dim("batch", min=1)
        program = torch.onnx.export(
            graph,
            args,
            dynamo=True,
            input_names=inputs,
            output_names=outputs,
            dynamic_shapes={name: {0: batch} for name in inputs},
            opset_version=opset,
            external_data=False,
            optimize=True,
            verbose=False,
        )
        if program is None:  # pragma: no cover - torch always returns a program here
            raise ExportError("torch.onnx.export returned no program")
        return program.model_proto
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder) / "model.onnx"
        torch.onnx.export(
            graph,
            args,
            str(scratch),
            dynamo=False,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes={name: {0: "batch"} for name in inputs + outputs},
            opset_version=opset,
        )
        return onnx.load(str(scratch))


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silence the exporter's progress prints and its warnings about optional packages."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _check_io(proto: onnx.ModelProto, contract: ModelContract, path: Path) -> None:
    inputs = tuple(value.name for value in proto.graph.input)
    outputs = tuple(value.name for value in proto.graph.output)
    if inputs != contract.input_names() or outputs != contract.output_names():
        raise ExportError(
            f"{path}: exported graph has inputs {inputs} and outputs {outputs}; the contract "
            f"wants {contract.input_names()} and {contract.output_names()}. This is an exporter bug: "
            "report it with the torch version"
        )


def export_onnx(
    model: SteeringNetwork,
    path: str | os.PathLike[str],
    *,
    training_data: dict[str, Any] | None = None,
    check: bool = True,
    preprocessing: Preprocessing = PAPER_PREPROCESSING,
    opset: int = DEFAULT_OPSET,
    tolerance: float = DEFAULT_TOLERANCE,
    audit_tolerance: float = DEFAULT_AUDIT_TOLERANCE,
    parity_frames: int = 200,
    exporter: str = "dynamo",
) -> ExportReport:
    """Export ``model`` to ``path`` (one file); with ``check``, verify it against torch first.

    Raises :class:`ExportParityError` (and writes nothing) when, anywhere over the carried
    ``parity_frames``-frame sequence, onnxruntime's curvature differs from torch's by more than
    ``tolerance`` (1/m), or an audit output (state, neurons, features) by more than
    ``audit_tolerance`` (absolute within [-1, 1], relative to the output's magnitude above that).
    """
    path = Path(path)
    if exporter not in EXPORTERS:
        raise ExportError(f"unknown exporter {exporter!r}; choose one of {EXPORTERS}")
    if opset < 18:
        raise ExportError(f"opset {opset} is too old; use 18 or newer")
    if not isinstance(model, SteeringNetwork):
        raise ExportError(
            f"cannot export a {type(model).__name__}: wrap the head and cell in "
            "ncp_driver.training.networks.SteeringNetwork (or use build_model)"
        )
    expected = getattr(model.head, "input_shape", preprocessing.input_shape)
    if tuple(expected) != preprocessing.input_shape:
        raise ExportError(
            f"the model's head takes {expected} frames but the preprocessing makes "
            f"{preprocessing.input_shape}: export with the preprocessing it was trained with"
        )
    model = copy.deepcopy(model).cpu().eval()
    contract = make_contract(
        model,
        preprocessing,
        training_data,
        extra={
            "opset": str(opset),
            "onnx_exporter": f"torch.onnx {exporter}",
            **ltc_parameters(model),
        },
    )
    with torch.no_grad(), _quiet_exporter():
        proto = _to_proto(model, contract, exporter, opset)
    _check_io(proto, contract, path)
    del proto.metadata_props[:]
    onnx.helper.set_model_props(proto, contract.to_metadata())
    proto.producer_name = "ncp_driver"
    proto.producer_version = ncp_driver.__version__
    proto.doc_string = (
        f"ncp_driver steering model ({contract.kind}): one camera frame in, curvature (1/m) out. "
        "See the ncp_driver.* metadata."
    )

    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(path)
    tmp = partial_path(path)
    try:
        onnx.save_model(proto, str(tmp), save_as_external_data=False)
        report = ExportReport(
            path=path,
            contract=contract,
            exporter=exporter,
            opset=opset,
            checked=check,
            size_bytes=tmp.stat().st_size,
        )
        if check:
            try:
                onnx.checker.check_model(str(tmp), full_check=True)
            except onnx.checker.ValidationError as exc:
                raise ExportError(f"{path}: the ONNX checker rejects the export: {exc}") from exc
            parity = run_parity(model, tmp, contract, frames=parity_frames)
            steering = parity.per_output[OUTPUT_CURVATURE]
            audit = max((v for k, v in parity.scaled.items() if k != OUTPUT_CURVATURE), default=0.0)
            if not (steering <= tolerance and audit <= audit_tolerance):
                raise ExportParityError(
                    f"{path}: onnxruntime and torch differ by up to {steering:.3g} 1/m in "
                    f"curvature (tolerance {tolerance:g}) and {audit:.3g} scaled in the audit "
                    f"outputs (tolerance {audit_tolerance:g}) over {parity.frames} carried frames "
                    f"(absolute per output: {parity.per_output}); nothing was written. Try "
                    "exporter='torchscript' or report it with the torch and onnxruntime versions"
                )
            report = ExportReport(
                path=path,
                contract=contract,
                exporter=exporter,
                opset=opset,
                checked=True,
                max_abs_diff=parity.max_abs_diff,
                max_scaled_diff=parity.max_scaled_diff,
                per_output=parity.per_output,
                parity_frames=parity.frames,
                size_bytes=report.size_bytes,
            )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return report

"""The model contract: one definition of the exported ONNX model's inputs, outputs and metadata.

The exporter (torch side) writes it; the runtime (the car and the replay) checks it. Change it
here and nowhere else.

Inputs of the step graph (batch dimension ``batch`` is dynamic; the car uses 1):

==============  =======================  ===============================================
name            shape / dtype            meaning
==============  =======================  ===============================================
``frame``       [batch, H, W, 3] float32  preprocessed frame(s), RGB in [0, 1] (see preprocessing)
``state``       [batch, S] float32        recurrent state before this frame (absent for ``cnn``)
``elapsed_s``   [batch, 1] float32        seconds since the previous frame (absent for ``cnn``)
==============  =======================  ===============================================

Outputs:

=================  =====================  ==================================================
``curvature``      [batch, 1] float32      inverse turning radius in 1/m, positive = left turn
``state_out``      [batch, S] float32      recurrent state after this frame (absent for ``cnn``)
``neurons``        [batch, K] float32      neuron potentials (NCP: 19) or hidden units (audit)
``features``       [batch, 32] float32     the conv head's sensory features (audit)
=================  =====================  ==================================================

Sign convention (REP 103): x forward, y left, so a positive curvature and a positive steering
angle turn left.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ncp_driver.errors import ModelContractError
from ncp_driver.preprocessing import Preprocessing

__all__ = [
    "CONTRACT_VERSION",
    "ENCODING_GROUPS",
    "FORMAT_NAME",
    "INPUT_ELAPSED",
    "INPUT_FRAME",
    "INPUT_STATE",
    "META_PREFIX",
    "MODEL_KINDS",
    "OUTPUT_CURVATURE",
    "OUTPUT_FEATURES",
    "OUTPUT_NEURONS",
    "OUTPUT_STATE",
    "STATEFUL_KINDS",
    "ModelContract",
    "OutputMeaning",
]

FORMAT_NAME = "ncp-driver-steering"
CONTRACT_VERSION = 1
META_PREFIX = "ncp_driver."

INPUT_FRAME = "frame"
INPUT_STATE = "state"
INPUT_ELAPSED = "elapsed_s"
OUTPUT_CURVATURE = "curvature"
OUTPUT_STATE = "state_out"
OUTPUT_NEURONS = "neurons"
OUTPUT_FEATURES = "features"

MODEL_KINDS = ("ncp", "cfc", "lstm", "gru", "ctrnn", "cnn")
STATEFUL_KINDS = ("ncp", "cfc", "lstm", "gru", "ctrnn")


# The camera encodings a model accepts, by group (a contract may also name single encodings). A
# model trained on colour frames steers only on colour streams: a depth or mono image would
# reach it as grey RGB and give commands (issue 10). "colour" is the default of every contract.
ENCODING_GROUPS: dict[str, frozenset[str]] = {
    "colour": frozenset(
        {"rgb8", "bgr8", "rgba8", "bgra8", "rgb16", "bgr16", "rgba16", "bgra16"}
        | {f"bayer_{p}{b}" for p in ("rggb", "bggr", "gbrg", "grbg") for b in (8, 16)}
        | {"yuv422", "uyvy", "yuv422_yuy2", "yuyv", "nv12", "nv21", "jpeg", "png"}
    ),
    "mono": frozenset({"mono8", "mono16"}),
}
DEFAULT_INPUT_ENCODINGS = ("colour",)


@dataclass(frozen=True)
class OutputMeaning:
    """What the ``curvature`` output means, stored in the model so no one has to guess."""

    name: str = OUTPUT_CURVATURE
    quantity: str = "inverse turning radius"
    unit: str = "1/m"
    sign: str = "positive turns left (REP 103)"
    training_scale: float = (
        1000.0  # the network was trained on inverse_r x this; the export undoes it
    )


@dataclass(frozen=True)
class ModelContract:
    """Everything a runtime needs to know about an exported model, read from ONNX metadata."""

    kind: str
    state_size: int
    neuron_count: int
    feature_count: int
    preprocessing: Preprocessing
    output: OutputMeaning = field(default_factory=OutputMeaning)
    wiring: dict[str, Any] = field(default_factory=dict)
    training_data: dict[str, Any] = field(default_factory=dict)
    exporter: str = ""
    frame_period_s: float = (
        1.0 / 30.0
    )  # nominal camera period: elapsed_s / this = the cell's time step
    extra: dict[str, str] = field(default_factory=dict)
    # camera encodings it may steer on: groups of ENCODING_GROUPS and/or single encodings
    input_encodings: tuple[str, ...] = DEFAULT_INPUT_ENCODINGS

    @property
    def stateful(self) -> bool:
        return self.kind in STATEFUL_KINDS

    def accepts_encoding(self, encoding: str) -> bool:
        """Whether a stream of ``encoding`` (``rgb8``, ``jpeg``, ``16UC1``, ...) may be steered on."""
        return any(
            encoding == name or encoding in ENCODING_GROUPS.get(name, ())
            for name in self.input_encodings
        )

    def to_metadata(self) -> dict[str, str]:
        """The ONNX ``metadata_props`` entries (all strings) for this contract."""
        meta = {
            "format": FORMAT_NAME,
            "contract_version": str(CONTRACT_VERSION),
            "kind": self.kind,
            "state_size": str(self.state_size),
            "neuron_count": str(self.neuron_count),
            "feature_count": str(self.feature_count),
            "preprocessing": self.preprocessing.to_json(),
            "output": json.dumps(self.output.__dict__, sort_keys=True),
            "wiring": json.dumps(self.wiring, sort_keys=True),
            "training_data": json.dumps(self.training_data, sort_keys=True),
            "exporter": self.exporter,
            "frame_period_s": repr(self.frame_period_s),
        }
        if tuple(self.input_encodings) != DEFAULT_INPUT_ENCODINGS:  # absent = the default
            meta["input_encodings"] = json.dumps(list(self.input_encodings))
        meta.update(self.extra)
        return {META_PREFIX + key: value for key, value in meta.items()}

    @classmethod
    def from_metadata(cls, props: dict[str, str], source: str = "model") -> ModelContract:
        """Parse and validate ``metadata_props``; ``source`` names the file in error messages."""
        ours = {k[len(META_PREFIX) :]: v for k, v in props.items() if k.startswith(META_PREFIX)}
        if ours.get("format") != FORMAT_NAME:
            raise ModelContractError(
                f"{source} is not an ncp_driver steering model: its ONNX metadata has no "
                f"'{META_PREFIX}format' = '{FORMAT_NAME}' entry. Export it with `ncp-export`."
            )
        version = ours.get("contract_version", "")
        if version != str(CONTRACT_VERSION):
            raise ModelContractError(
                f"{source} was exported under contract version {version!r}; this ncp_driver reads "
                f"version {CONTRACT_VERSION}. Re-export the checkpoint with this version's `ncp-export`."
            )
        required = (
            "kind",
            "state_size",
            "neuron_count",
            "feature_count",
            "preprocessing",
            "output",
        )
        missing = [key for key in required if key not in ours]
        if missing:
            raise ModelContractError(
                f"{source} lacks the metadata {', '.join(META_PREFIX + m for m in missing)}; "
                "re-export it with `ncp-export`"
            )
        kind = ours["kind"]
        if kind not in MODEL_KINDS:
            raise ModelContractError(
                f"{source} has unknown model kind {kind!r}; known: {MODEL_KINDS}"
            )
        try:
            output = OutputMeaning(**json.loads(ours["output"]))
            contract = cls(
                kind=kind,
                state_size=int(ours["state_size"]),
                neuron_count=int(ours["neuron_count"]),
                feature_count=int(ours["feature_count"]),
                preprocessing=Preprocessing.from_json(ours["preprocessing"]),
                output=output,
                wiring=json.loads(ours.get("wiring", "{}")),
                training_data=json.loads(ours.get("training_data", "{}")),
                exporter=ours.get("exporter", ""),
                frame_period_s=float(ours.get("frame_period_s", 1.0 / 30.0)),
                extra={k: v for k, v in ours.items() if k not in _CARD_KEYS},
                input_encodings=tuple(
                    str(e) for e in json.loads(ours.get("input_encodings", '["colour"]'))
                ),
            )
        except (ValueError, TypeError) as exc:
            raise ModelContractError(f"{source} has malformed ncp_driver metadata: {exc}") from exc
        if contract.stateful and contract.state_size <= 0:
            raise ModelContractError(
                f"{source} is a {kind} model but declares state_size {contract.state_size}: "
                "a recurrent model must carry its state"
            )
        if not contract.input_encodings:
            raise ModelContractError(
                f"{source} accepts no camera encoding (input_encodings is empty); re-export it"
            )
        if contract.output.unit != "1/m":
            raise ModelContractError(
                f"{source} outputs curvature in {contract.output.unit!r}; this runtime expects 1/m"
            )
        return contract

    def input_names(self) -> tuple[str, ...]:
        return (INPUT_FRAME, INPUT_STATE, INPUT_ELAPSED) if self.stateful else (INPUT_FRAME,)

    def output_names(self) -> tuple[str, ...]:
        if self.stateful:
            return (OUTPUT_CURVATURE, OUTPUT_STATE, OUTPUT_NEURONS, OUTPUT_FEATURES)
        return (OUTPUT_CURVATURE, OUTPUT_NEURONS, OUTPUT_FEATURES)


_CARD_KEYS = {
    "format",
    "contract_version",
    "kind",
    "state_size",
    "neuron_count",
    "feature_count",
    "preprocessing",
    "output",
    "wiring",
    "training_data",
    "exporter",
    "frame_period_s",
    "input_encodings",
}

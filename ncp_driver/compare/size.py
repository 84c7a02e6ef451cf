"""What a model costs: parameters, synapses, file size and latency per frame on this CPU.

Parameters come from the model card beside the file when its sha256 matches (the count of the
trained network), else from the ONNX initializers (which may also hold a few constants).
Synapses are the NCP wiring's (``ncp_driver.wiring`` metadata: ``synapse_counts.total``); other
kinds have none. Latency is the model cards' figure (:func:`ncp_driver.modelcard.latency`: one
onnxruntime step per frame, median and 90th percentile over ``runs`` frames after a warm-up):
reported, never judged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver.contract import ModelContract
from ncp_driver.schemas import CompareSize

__all__ = ["card_path", "model_size", "read_card", "training_note"]


def card_path(model: Path) -> Path:
    """``models/<name>.card.json`` for ``models/<name>.onnx``."""
    return model.with_suffix(".card.json")


def read_card(model: Path, sha256: str) -> dict[str, Any] | None:
    """The model's card when there is one that describes this very file (same sha256)."""
    path = card_path(model)
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(doc, dict) or doc.get("sha256") != sha256:
        return None
    return doc


def training_note(cards: list[tuple[str, dict[str, Any] | None]]) -> str:
    """How each model was trained, from its card: training seed, epochs, the exported epoch.

    ``cards``: (model name, its card or None). The page says how many training seeds stand
    behind each model (one, for a committed model), so nobody reads one seed as a kind's result.
    """
    parts = []
    for name, card in cards:
        training = (card or {}).get("training") or {}
        if not training:
            parts.append(f"{name}: no card, training unknown")
            continue
        exported = (training.get("exported_epoch") or {}).get("epoch")
        parts.append(
            f"{name}: seed {training.get('seed')}, {training.get('epochs')} epochs"
            + (f" (exported epoch {exported:g})" if isinstance(exported, (int, float)) else "")
        )
    return (
        "Training, from the models' cards: one training seed per model ("
        + "; ".join(parts)
        + "). One seed cannot show how much a kind's figures vary from seed to seed."
    )


def _initializer_count(model: Path) -> int:
    import onnx

    proto = onnx.load(str(model), load_external_data=False)
    total = 0
    for init in proto.graph.initializer:
        total += int(np.prod(init.dims)) if init.dims else 1
    return total


def _synapses(contract: ModelContract) -> int | None:
    counts = contract.wiring.get("synapse_counts") if contract.kind == "ncp" else None
    if isinstance(counts, dict) and isinstance(counts.get("total"), int):
        return int(counts["total"])
    return None


def model_size(
    model: Path,
    contract: ModelContract,
    card: dict[str, Any] | None,
    timing: dict[str, Any] | None,
) -> CompareSize:
    """The size row of ``model``; ``timing`` is :func:`ncp_driver.modelcard.latency`'s (None:
    not measured)."""
    parameters = card.get("parameters") if card else None
    source = "model card"
    if not isinstance(parameters, int):
        parameters, source = _initializer_count(model), "ONNX initializers"
    return CompareSize(
        parameters=parameters,
        parameters_source=source,
        synapses=_synapses(contract),
        neurons=contract.neuron_count,
        state_size=contract.state_size,
        file_bytes=model.stat().st_size,
        latency_ms_median=None if timing is None else float(timing["median_ms"]),
        latency_ms_p90=None if timing is None else float(timing["p90_ms"]),
        latency_runs=0 if timing is None else int(timing["runs"]),
        latency_what="" if timing is None else str(timing["what"]),
    )

"""Pieces of the fleet tests: small synthetic drives, a dark stretch, and models grafted from the
toy steering model of ``tests/runtime/runtime_models.py`` (real ONNX files, real sessions).

The candidate models differ from the reference only inside the ONNX graph: ``graft`` renames the
model's ``curvature`` output and adds to it a constant bias (a perturbed readout), or a bump
``gain * relu(threshold - mean brightness of the frame)`` that only dark frames trigger.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "replay"))

from replay_helpers import CAMERA, copy_bag
from runtime_models import ToyWeights, toy_model

from ncp_driver.synth import DriveConfig

__all__ = ["CAMERA", "DARK_FRAMES", "copy_bag", "darken", "drive_config", "graft", "reference"]

CAMERA_HZ = 10.0
DARK_FRAMES = range(30, 42)  # frames 30..41 of the dark drive: 3.0 s to 4.1 s
DARK_FACTOR = 0.25


def drive_config(seed: int) -> DriveConfig:
    """A 6 s drive at 10 Hz, 120 x 192: engaged at 1 s, a takeover at 4 s, engaged at 5 s."""
    return DriveConfig(
        seed=seed,
        duration_s=6.0,
        height=120,
        width=192,
        camera_hz=CAMERA_HZ,
        takeover_times_s=(4.0,),
        engage_times_s=(1.0, 5.0),
    )


def darken(source: Path, target: Path) -> Path:
    """A copy of the bag whose frames in DARK_FRAMES are darkened (a tunnel)."""

    def edit(index: int, topic: str, message: Any) -> Any:
        if topic == CAMERA and index in DARK_FRAMES:
            pixels = np.asarray(message.data, dtype=np.float32) * DARK_FACTOR
            message.data = pixels.astype(np.uint8)
            return message
        return None

    return copy_bag(source, target, edit=edit)


def reference() -> onnx.ModelProto:
    return toy_model(ToyWeights.make(seed=5))


def graft(
    model: onnx.ModelProto, *, bias: float = 0.0, dark_below: float | None = None, gain: float = 0.0
) -> onnx.ModelProto:
    """``model`` with ``curvature += bias (+ gain * relu(dark_below - mean(frame)))``."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    for node in graph.node:
        node.output[:] = ["curvature_base" if o == "curvature" else o for o in node.output]
    graph.initializer.append(numpy_helper.from_array(np.array([[bias]], np.float32), "graft_bias"))
    n = helper.make_node
    nodes = [n("Add", ["curvature_base", "graft_bias"], ["graft_biased"])]
    if dark_below is not None:
        graph.initializer.extend(
            [
                numpy_helper.from_array(np.array([1, 2, 3], np.int64), "graft_axes"),
                numpy_helper.from_array(np.array([1], np.int64), "graft_unsqueeze"),
                numpy_helper.from_array(np.array(dark_below, np.float32), "graft_threshold"),
                numpy_helper.from_array(np.array(gain, np.float32), "graft_gain"),
            ]
        )
        nodes += [
            n("ReduceMean", ["frame", "graft_axes"], ["graft_mean"], keepdims=0),
            n("Unsqueeze", ["graft_mean", "graft_unsqueeze"], ["graft_mean1"]),
            n("Sub", ["graft_threshold", "graft_mean1"], ["graft_room"]),
            n("Relu", ["graft_room"], ["graft_dark"]),
            n("Mul", ["graft_dark", "graft_gain"], ["graft_bump"]),
            n("Add", ["graft_biased", "graft_bump"], ["curvature"]),
        ]
    else:
        nodes.append(n("Identity", ["graft_biased"], ["curvature"]))
    graph.node.extend(nodes)
    onnx.checker.check_model(out)
    return out


def comparable(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary without what differs from run to run (timings, backend, cache folder)."""
    return {k: v for k, v in summary.items() if k != "run"}

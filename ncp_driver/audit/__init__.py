"""Looking inside the network along a replayed drive (numpy, onnx, onnxruntime; no torch).

* :func:`load_replay` reads a replay directory;
* neuron activity over time and on the road (:mod:`.neurons`), PCA (:mod:`.pca`), LTC time
  constants (:mod:`.timeconstants`);
* VisualBackProp saliency and its robustness to noise, from the ONNX file alone (:mod:`.saliency`);
* smoothness of the dynamics: local Lipschitz constants from state Jacobians (:mod:`.smoothness`).

Needs the ``bags`` extra (onnx, matplotlib, h5py). See docs/audit.md for every formula.
"""

from __future__ import annotations

from ncp_driver.audit.errors import AuditError, ModelGraphError, ReplayFormatError
from ncp_driver.audit.neurons import NeuronLayout, neuron_layout
from ncp_driver.audit.pca import PcaResult, pca
from ncp_driver.audit.replay import Replay, Trace, load_replay
from ncp_driver.audit.saliency import SaliencyModel, ssim, visual_backprop
from ncp_driver.audit.smoothness import CellModel, Smoothness, smoothness
from ncp_driver.audit.timeconstants import LtcParameters, ltc_time_constants, time_constants

__all__ = [
    "AuditError",
    "CellModel",
    "LtcParameters",
    "ModelGraphError",
    "NeuronLayout",
    "PcaResult",
    "Replay",
    "ReplayFormatError",
    "SaliencyModel",
    "Smoothness",
    "Trace",
    "load_replay",
    "ltc_time_constants",
    "neuron_layout",
    "pca",
    "smoothness",
    "ssim",
    "time_constants",
    "visual_backprop",
]

"""ONNX export of trained steering networks (needs torch, onnx, onnxruntime).

``export_onnx(model, path)`` writes one self-describing file per the model contract and checks
it against torch; ``ncp-export`` does the same from a training checkpoint.
"""

from __future__ import annotations

from ncp_driver.export.errors import ExportError, ExportParityError
from ncp_driver.export.onnx_export import ExportReport, export_onnx, make_contract

__all__ = ["ExportError", "ExportParityError", "ExportReport", "export_onnx", "make_contract"]

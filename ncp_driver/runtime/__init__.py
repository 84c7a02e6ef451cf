"""The on-car runtime: camera message in, safe steering command out (numpy, OpenCV, onnxruntime)."""

from __future__ import annotations

from ncp_driver.runtime.config import PipelineConfig

__all__ = ["PipelineConfig"]

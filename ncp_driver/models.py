"""Where the default model lives: ``models/`` at the top of the repository."""

from __future__ import annotations

from pathlib import Path

from ncp_driver.errors import ConfigError

__all__ = ["DEFAULT_MODEL_NAME", "MODELS_DIR", "default_model_path"]

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
DEFAULT_MODEL_NAME = "ncp_synthetic.onnx"


def default_model_path() -> Path:
    """The committed default model (conv + NCP trained on synthetic drives; see its model card, models/ncp_synthetic.md)."""
    path = MODELS_DIR / DEFAULT_MODEL_NAME
    if not path.is_file():
        raise ConfigError(
            f"the default model {path} is missing: this copy of ncp_driver is not a checkout of "
            "the repository; pass --model PATH to an exported .onnx file"
        )
    return path

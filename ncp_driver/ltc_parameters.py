"""The LTC cell's parameters as they travel in an exported model's metadata.

Exporters give initializers arbitrary names (and fold some together), so the exporter writes
the parameters of an ``ncp`` model's LTC cell, as its forward pass uses them, under
:data:`LTC_METADATA_KEY`; the audit reads them back (time constants, docs/audit.md). numpy only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ncp_driver.contract import META_PREFIX
from ncp_driver.errors import ModelContractError

__all__ = ["LTC_METADATA_KEY", "LtcParameters"]

LTC_METADATA_KEY = META_PREFIX + "ltc_parameters"

_MATRICES = ("w", "sigma", "mu", "erev", "mask")
_SENSORY = ("sensory_w", "sensory_sigma", "sensory_mu", "sensory_erev", "sensory_mask")
_VECTORS = ("cm", "gleak", "vleak")


@dataclass(frozen=True)
class LtcParameters:
    """An LTC cell's parameters as used in its forward pass (constraints already applied).

    Matrices are ``[source, target]``; ``mask``/``sensory_mask`` hold 1 where a synapse exists.
    """

    cm: np.ndarray  # (K,)
    gleak: np.ndarray  # (K,)
    vleak: np.ndarray  # (K,)
    w: np.ndarray  # (K, K)
    sigma: np.ndarray
    mu: np.ndarray
    erev: np.ndarray
    mask: np.ndarray
    sensory_w: np.ndarray | None = None  # (S, K)
    sensory_sigma: np.ndarray | None = None
    sensory_mu: np.ndarray | None = None
    sensory_erev: np.ndarray | None = None
    sensory_mask: np.ndarray | None = None
    input_w: np.ndarray | None = None  # (S,) affine input map
    input_b: np.ndarray | None = None
    ode_unfolds: int = 6
    time_unit_s: float = 1.0  # seconds per unit of the cell's time

    def __post_init__(self) -> None:
        k = np.asarray(self.cm).shape
        if len(k) != 1:
            raise ModelContractError(f"cm must be a vector, got shape {k}")
        units = k[0]
        for name in _VECTORS:
            if np.asarray(getattr(self, name)).shape != (units,):
                raise ModelContractError(f"LTC parameter {name} must have shape ({units},)")
        for name in _MATRICES:
            if np.asarray(getattr(self, name)).shape != (units, units):
                raise ModelContractError(f"LTC parameter {name} must have shape ({units}, {units})")
        present = [getattr(self, name) is not None for name in _SENSORY]
        if any(present) and not all(present):
            raise ModelContractError(f"give all of {_SENSORY} or none")
        if all(present):
            shape = np.asarray(self.sensory_w).shape
            for name in _SENSORY:
                if np.asarray(getattr(self, name)).shape != shape or shape[1:] != (units,):
                    raise ModelContractError(f"LTC parameter {name} must have shape (S, {units})")
        if not (np.isfinite(self.time_unit_s) and self.time_unit_s > 0):
            raise ModelContractError(f"time_unit_s must be positive, got {self.time_unit_s}")

    @property
    def units(self) -> int:
        return int(np.asarray(self.cm).shape[0])

    @property
    def has_sensory(self) -> bool:
        return self.sensory_w is not None

    def sensory_inputs(self, features: np.ndarray) -> np.ndarray:
        """The conv features through the cell's input map (identity when it has none)."""
        x = np.asarray(features, dtype=np.float64)
        if self.input_w is not None:
            x = x * np.asarray(self.input_w, dtype=np.float64)
        if self.input_b is not None:
            x = x + np.asarray(self.input_b, dtype=np.float64)
        return x

    def to_json(self) -> str:
        data: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, np.ndarray):
                data[item.name] = np.asarray(value, dtype=np.float64).tolist()
            elif value is not None:
                data[item.name] = value
        data["convention"] = "matrices [source, target]; constraints applied"
        return json.dumps(data, sort_keys=True)

    def to_metadata(self) -> dict[str, str]:
        """The ONNX ``metadata_props`` entry the exporter adds for the audit."""
        return {LTC_METADATA_KEY: self.to_json()}

    @classmethod
    def from_json(cls, text: str) -> LtcParameters:
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            known = {item.name for item in fields(cls)}
            kwargs: dict[str, Any] = {}
            for name, value in data.items():
                if name not in known:
                    continue
                if name == "ode_unfolds":
                    kwargs[name] = int(value)
                elif name == "time_unit_s":
                    kwargs[name] = float(value)
                else:
                    kwargs[name] = np.asarray(value, dtype=np.float64)
            return cls(**kwargs)
        except (ValueError, TypeError) as exc:
            raise ModelContractError(
                f"malformed LTC parameters in {LTC_METADATA_KEY}: {exc}"
            ) from exc

    @classmethod
    def from_metadata(cls, props: Mapping[str, str]) -> LtcParameters | None:
        """The parameters in a model's metadata, or ``None`` when it carries none."""
        text = props.get(LTC_METADATA_KEY)
        return None if text is None else cls.from_json(text)

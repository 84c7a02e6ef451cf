"""Reading a replay directory (written by ``ncp_driver.replay``) into numpy arrays.

A replay directory holds:

==================  ============================================================================
``output.csv``      one row per camera frame: ``stamp`` (s), ``status``, ``autonomous`` (0/1),
                    ``curvature``, ``raw_curvature`` (1/m), ``steering_angle`` (rad),
                    ``human_curvature`` (1/m), ``limits_active`` (``;``-joined), ``reset_reason``,
                    ``latitude``, ``longitude`` (deg), ``speed`` (m/s); empty cells are missing
``neurons.csv``     ``stamp``, ``n0`` .. ``n{K-1}``: the model's ``neurons`` output per frame
``sensory.csv``     ``stamp``, ``f0`` .. ``f31``: the model's ``features`` output per frame
``metrics.json``    replay metrics (:class:`ncp_driver.schemas.Metrics`), the model path under
                    ``"model"``
``takeovers.json``  the recording's takeovers (:class:`ncp_driver.schemas.Takeovers`, written
                    by ``ncp-bag takeovers --json``), optional
``discomfort.json`` the recording's lateral discomfort (:class:`ncp_driver.schemas.Discomfort`,
                    ``ncp-bag discomfort --json``), optional
==================  ============================================================================

``output.csv`` and ``metrics.json`` are required; the other files are optional, and the
analyses that need one say so (:meth:`Replay.require_neurons`, ...).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from ncp_driver.audit.errors import ReplayFormatError
from ncp_driver.replay.layout import (
    DISCOMFORT_FILE,
    METRICS_FILE,
    NEURONS_FILE,
    OUTPUT_FILE,
    SENSORY_FILE,
    TAKEOVERS_FILE,
)
from ncp_driver.replay.layout import OUTPUT_COLUMNS as LAYOUT_COLUMNS
from ncp_driver.schemas import (
    Discomfort,
    Document,
    Metrics,
    SchemaError,
    Takeovers,
    read_document,
)

__all__ = [
    "DISCOMFORT_FILE",
    "METRICS_FILE",
    "NEURONS_FILE",
    "OUTPUT_COLUMNS",
    "OUTPUT_FILE",
    "SENSORY_FILE",
    "TAKEOVERS_FILE",
    "Replay",
    "Trace",
    "load_replay",
]

D = TypeVar("D", bound=Document)

# The reader needs these columns; the writer (ncp_driver.replay) may add more.
OUTPUT_COLUMNS = LAYOUT_COLUMNS[: LAYOUT_COLUMNS.index("speed") + 1]
_FLOAT_COLUMNS = (
    "curvature",
    "raw_curvature",
    "steering_angle",
    "human_curvature",
    "latitude",
    "longitude",
    "speed",
)


@dataclass(frozen=True)
class Trace:
    """A per-frame vector signal: ``values[i]`` was recorded at ``stamp[i]``."""

    stamp: np.ndarray  # (N,) float64 seconds
    values: np.ndarray  # (N, K) float64
    names: tuple[str, ...]  # column names, K of them

    @property
    def width(self) -> int:
        return int(self.values.shape[1])


@dataclass(frozen=True)
class Replay:
    """One replay directory, as arrays; missing numbers are NaN, missing files ``None``."""

    directory: Path
    stamp: np.ndarray  # (N,) float64 s
    status: np.ndarray  # (N,) str
    autonomous: np.ndarray  # (N,) bool
    curvature: np.ndarray  # (N,) commanded after limits, 1/m
    raw_curvature: np.ndarray  # (N,) model output, 1/m
    steering_angle: np.ndarray  # (N,) rad
    human_curvature: np.ndarray  # (N,) 1/m
    limits_active: tuple[tuple[str, ...], ...]  # per frame, names of active limits
    reset_reason: np.ndarray  # (N,) str, "" when no reset
    latitude: np.ndarray  # (N,) deg
    longitude: np.ndarray  # (N,) deg
    speed: np.ndarray  # (N,) m/s
    metrics: Metrics
    elapsed_s: np.ndarray | None = None  # (N,) s, the elapsed time the pipeline fed the model
    neurons: Trace | None = None
    sensory: Trace | None = None
    takeovers: Takeovers | None = None
    discomfort: Discomfort | None = None

    @property
    def frames(self) -> int:
        return int(self.stamp.size)

    @property
    def has_gps(self) -> bool:
        """At least two frames with a finite position."""
        return int(np.count_nonzero(self.gps_mask)) >= 2

    @property
    def gps_mask(self) -> np.ndarray:
        return np.isfinite(self.latitude) & np.isfinite(self.longitude)

    @property
    def has_human(self) -> bool:
        return bool(np.any(np.isfinite(self.human_curvature)))

    @property
    def has_speed(self) -> bool:
        return bool(np.any(np.isfinite(self.speed)))

    @property
    def model_path(self) -> Path | None:
        """The model recorded in metrics.json (relative paths are taken from the directory)."""
        model = self.metrics.model
        if not model:
            return None
        path = Path(model)
        return path if path.is_absolute() else self.directory / path

    def require_neurons(self) -> Trace:
        if self.neurons is None:
            raise ReplayFormatError(
                f"{self.directory} has no {NEURONS_FILE}: replay the drive with a model that "
                "outputs 'neurons' (any ncp_driver export does)"
            )
        return self.neurons

    def require_sensory(self) -> Trace:
        if self.sensory is None:
            raise ReplayFormatError(
                f"{self.directory} has no {SENSORY_FILE}: replay the drive again with this "
                "ncp_driver (it writes the conv head's features per frame)"
            )
        return self.sensory

    def require_model(self) -> Path:
        path = self.model_path
        if path is None:
            raise ReplayFormatError(
                f'{self.directory / METRICS_FILE} records no "model" path: pass the model '
                "file explicitly"
            )
        if not path.is_file():
            raise ReplayFormatError(
                f"the model recorded in {self.directory / METRICS_FILE} ({path}) does not exist: "
                "pass the model file explicitly"
            )
        return path

    def position_at(self, stamps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Latitude and longitude interpolated at ``stamps`` (NaN outside the GPS coverage)."""
        stamps = np.asarray(stamps, dtype=np.float64)
        ok = self.gps_mask
        if np.count_nonzero(ok) < 2:
            nan = np.full(stamps.shape, np.nan)
            return nan, nan.copy()
        t = self.stamp[ok]
        order = np.argsort(t, kind="stable")
        t = t[order]
        lat = np.interp(stamps, t, self.latitude[ok][order], left=np.nan, right=np.nan)
        lon = np.interp(stamps, t, self.longitude[ok][order], left=np.nan, right=np.nan)
        return lat, lon

    def mode_at(self, stamps: np.ndarray) -> np.ndarray:
        """Whether the car was autonomous at ``stamps`` (the last output.csv row at or before)."""
        stamps = np.asarray(stamps, dtype=np.float64)
        if self.frames == 0:
            return np.zeros(stamps.shape, dtype=bool)
        order = np.argsort(self.stamp, kind="stable")
        pos = np.searchsorted(self.stamp[order], stamps + 1e-9, side="right") - 1
        return self.autonomous[order][np.clip(pos, 0, self.frames - 1)]

    def at_stamps(self, stamps: np.ndarray) -> np.ndarray:
        """Indices of output.csv rows at these stamps (within 50 us; -1 where none)."""
        order = np.argsort(self.stamp, kind="stable")
        sorted_stamps = self.stamp[order]
        pos = np.clip(np.searchsorted(sorted_stamps, stamps), 0, max(self.frames - 1, 0))
        if self.frames == 0:
            return np.full(np.shape(stamps), -1, dtype=np.int64)
        found = np.isclose(sorted_stamps[pos], stamps, rtol=0.0, atol=5e-5)
        return np.where(found, order[pos], -1).astype(np.int64)


def load_replay(directory: Path | str) -> Replay:
    """Read a replay directory; raises :class:`ReplayFormatError` naming the file and line."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ReplayFormatError(f"replay directory {directory} does not exist")
    header, rows = _read_csv(directory / OUTPUT_FILE, required=True)
    missing = [c for c in OUTPUT_COLUMNS if c not in header]
    if missing:
        raise ReplayFormatError(
            f"{directory / OUTPUT_FILE} lacks the columns {missing}; it has {list(header)}"
        )
    path = directory / OUTPUT_FILE
    columns = {name: [row[header.index(name)] for row in rows] for name in OUTPUT_COLUMNS}
    stamp = _floats(path, "stamp", columns["stamp"], allow_empty=False)
    auto_raw = _floats(path, "autonomous", columns["autonomous"], allow_empty=False)
    if not np.all(np.isin(auto_raw, (0.0, 1.0))):
        bad = int(np.flatnonzero(~np.isin(auto_raw, (0.0, 1.0)))[0])
        raise ReplayFormatError(f"{path} line {bad + 2}: 'autonomous' must be 0 or 1")
    floats = {name: _floats(path, name, columns[name]) for name in _FLOAT_COLUMNS}
    elapsed = None
    if "elapsed_s" in header:
        elapsed = _floats(path, "elapsed_s", [row[header.index("elapsed_s")] for row in rows])
    neurons = _read_trace(directory / NEURONS_FILE, "n")
    sensory = _read_trace(directory / SENSORY_FILE, "f")
    metrics = _read_document(directory, Metrics)
    if metrics is None:
        raise ReplayFormatError(
            f"{directory / METRICS_FILE} is missing: is {directory} a replay directory?"
        )
    return Replay(
        directory=directory,
        stamp=stamp,
        status=np.array(columns["status"], dtype=str),
        autonomous=auto_raw.astype(bool),
        limits_active=tuple(
            tuple(part for part in cell.split(";") if part) for cell in columns["limits_active"]
        ),
        reset_reason=np.array(columns["reset_reason"], dtype=str),
        metrics=metrics,
        elapsed_s=elapsed,
        neurons=neurons,
        sensory=sensory,
        takeovers=_read_document(directory, Takeovers),
        discomfort=_read_document(directory, Discomfort),
        **floats,
    )


def _read_csv(path: Path, required: bool) -> tuple[list[str], list[list[str]]]:
    if not path.is_file():
        if required:
            raise ReplayFormatError(f"{path} is missing: is {path.parent} a replay directory?")
        return [], []
    try:
        with path.open(newline="", encoding="utf-8") as stream:
            reader = csv.reader(stream)
            header = next(reader, None)
            if header is None:
                raise ReplayFormatError(f"{path} is empty: it has no header line")
            header = [name.strip() for name in header]
            rows = []
            for line, row in enumerate(reader, start=2):
                if len(row) != len(header):
                    raise ReplayFormatError(
                        f"{path} line {line} has {len(row)} fields; the header has {len(header)}"
                    )
                rows.append(row)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReplayFormatError(f"cannot read {path}: {exc}") from exc
    return header, rows


def _floats(path: Path, name: str, cells: Sequence[str], allow_empty: bool = True) -> np.ndarray:
    out = np.empty(len(cells), dtype=np.float64)
    for i, cell in enumerate(cells):
        text = cell.strip()
        if not text:
            if not allow_empty:
                raise ReplayFormatError(f"{path} line {i + 2}: '{name}' is empty")
            out[i] = math.nan
            continue
        try:
            out[i] = float(text)
        except ValueError:
            raise ReplayFormatError(
                f"{path} line {i + 2}: '{name}' = {text!r} is not a number"
            ) from None
    return out


def _read_trace(path: Path, prefix: str) -> Trace | None:
    header, rows = _read_csv(path, required=False)
    if not header:
        return None
    if header[0] != "stamp":
        raise ReplayFormatError(f"{path}: the first column must be 'stamp', got {header[0]!r}")
    names = tuple(header[1:])
    expected = tuple(f"{prefix}{i}" for i in range(len(names)))
    if not names or names != expected:
        raise ReplayFormatError(
            f"{path}: columns after 'stamp' must be {prefix}0 .. {prefix}{{K-1}} in order, "
            f"got {list(names)[:5]}..."
        )
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    stamp = _floats(path, "stamp", columns[0], allow_empty=False)
    values = np.empty((len(rows), len(names)), dtype=np.float64)
    for k, name in enumerate(names):
        values[:, k] = _floats(path, name, columns[k + 1])
    return Trace(stamp=stamp, values=values, names=names)


def _read_document(directory: Path, kind: type[D]) -> D | None:
    """The schema document ``kind.FILE`` of ``directory``, or None when the file is absent."""
    path = directory / kind.FILE
    if not path.is_file():
        return None
    try:
        return read_document(kind, path)
    except SchemaError as exc:
        raise ReplayFormatError(str(exc)) from exc

"""The JSON documents the tools write, typed and versioned: one definition for writers and readers.

==================  ====================================  ======================================
document            written by                            read by
==================  ====================================  ======================================
``metrics.json``    ``ncp-replay`` (:class:`Metrics`)     the audit, the report, the demo
``takeovers.json``  ``ncp-bag takeovers --json``          the report (what happened on the
                    (:class:`Takeovers`)                  recorded drive)
``discomfort.json`` ``ncp-bag discomfort --json``         the report
                    (:class:`Discomfort`)
``active.json``     ``ncp-sim`` (:class:`Active`)         the report's closed-loop section, the
                                                          fleet's closed-loop step
``partial_input``   ``ncp-bag extract --allow-partial``   whoever uses the extracted folder
``.json``           on a damaged bag                      (no reader in ncp_driver)
                    (:class:`PartialInput`)
``summary.json``    ``ncp-eval`` (:class:`FleetSummary`)  ``ncp-eval --json``, CI gates
``<analysis>``      the audit's analyses: neuron          whoever uses the audit's folder
``.json``           activity, time constants, PCA,        (no reader in ncp_driver)
                    saliency, Lipschitz
                    (:data:`ANALYSIS_DOCUMENTS`)
``compare.json``    ``ncp-compare`` (:class:`Compare`)    ``ncp-compare --json``, its page
==================  ====================================  ======================================

The fleet summary types its top level and its verdict; the per-drive, pooled and per-tag
figures are objects whose keys ``ncp_driver.fleet`` defines (docs/eval.md).

Every document carries ``"schema"`` (its name) and ``"version"``. A reader accepts its own
version and older ones it knows; a document from a newer ncp_driver, of another kind, or with
a field of the wrong type is refused with :class:`SchemaError` naming the file and the field.
Numbers that could not be computed are ``null`` (``None``), never NaN. Fields are added with a
default and the version bumped; nothing reads a key that no writer writes.
"""

from __future__ import annotations

import json
import math
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar, Union

from ncp_driver.errors import NcpDriverError

__all__ = [
    "ANALYSIS_DOCUMENTS",
    "Active",
    "ActiveResult",
    "ActiveRun",
    "Agreement",
    "Compare",
    "CompareAttention",
    "CompareDrive",
    "CompareFold",
    "CompareModel",
    "ComparePassive",
    "CompareSize",
    "CompareSmoothness",
    "CompareStatement",
    "Discomfort",
    "DiscomfortLimits",
    "DiscomfortSource",
    "Document",
    "FleetCheck",
    "FleetSummary",
    "FleetVerdict",
    "InputLoss",
    "LipschitzSummary",
    "Metrics",
    "NeuronActivitySummary",
    "PartialInput",
    "PcaSummary",
    "PipelineFigures",
    "SaliencySummary",
    "SchemaError",
    "Segment",
    "SimModel",
    "SimRoad",
    "Spread",
    "TakeoverEvent",
    "Takeovers",
    "TimeConstantsSummary",
    "read_document",
]


class SchemaError(NcpDriverError):
    """A JSON document that is not what its schema says (kind, version, a field's type)."""


T = TypeVar("T")
D = TypeVar("D", bound="Document")


def _plain(value: Any) -> Any:
    """JSON-ready: dataclasses as dicts, NaN and infinities as None."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _parse(kind: Any, value: Any, where: str) -> Any:
    """``value`` checked (and converted) against the annotation ``kind``."""
    origin = typing.get_origin(kind)
    if kind is Any:
        return value
    if origin in (Union, types.UnionType):
        options = typing.get_args(kind)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _parse(option, value, where)
            except SchemaError as exc:
                errors.append(str(exc))
        raise SchemaError(errors[0] if errors else f"{where}: unexpected null")
    if origin is list:
        if not isinstance(value, list):
            raise SchemaError(f"{where} must be a list, got {type(value).__name__}")
        (item,) = typing.get_args(kind)
        return [_parse(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise SchemaError(f"{where} must be an object, got {type(value).__name__}")
        _, item = typing.get_args(kind)
        return {str(k): _parse(item, v, f"{where}.{k}") for k, v in value.items()}
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SchemaError(f"{where} must be a number, got {value!r}")
        return float(value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SchemaError(f"{where} must be an integer, got {value!r}")
        return value
    if kind in (str, bool):
        if not isinstance(value, kind):
            raise SchemaError(f"{where} must be a {kind.__name__}, got {value!r}")
        return value
    if isinstance(kind, type) and is_dataclass(kind):
        return _record(kind, value, where)
    raise SchemaError(f"{where}: no parser for {kind!r}")  # pragma: no cover - a schema bug


def _record(cls: type[T], value: Any, where: str) -> T:
    if not isinstance(value, dict):
        raise SchemaError(f"{where} must be an object, got {type(value).__name__}")
    hints = typing.get_type_hints(cls)
    given = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if not f.init:
            continue
        if f.name in value:
            given[f.name] = _parse(hints[f.name], value[f.name], f"{where}.{f.name}")
        elif f.default is MISSING and f.default_factory is MISSING:
            raise SchemaError(f"{where} lacks the field {f.name!r}")
    return cls(**given)


class Document:
    """Base of the top-level documents: ``schema`` and ``version`` around the fields."""

    SCHEMA: ClassVar[str]
    VERSION: ClassVar[int]
    FILE: ClassVar[str]

    def to_json(self) -> dict[str, Any]:
        """The document as JSON-ready values, ``schema`` and ``version`` first."""
        body = _plain(self)
        return {"schema": self.SCHEMA, "version": self.VERSION, **body}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls: type[D], data: Any, where: str | None = None) -> D:
        """Parse ``data`` (a decoded JSON object); ``where`` names the file in errors."""
        where = where or cls.FILE
        if not isinstance(data, dict):
            raise SchemaError(f"{where} must hold a JSON object, got {type(data).__name__}")
        schema, version = data.get("schema"), data.get("version")
        if schema != cls.SCHEMA:
            raise SchemaError(
                f"{where} is not a {cls.FILE} document (schema {schema!r}, expected "
                f"{cls.SCHEMA!r}): it was written by another tool or an older ncp_driver; "
                "write it again with this version"
            )
        if not isinstance(version, int) or version > cls.VERSION or version < 1:
            raise SchemaError(
                f"{where} has {cls.FILE} version {version!r}; this ncp_driver reads versions "
                f"up to {cls.VERSION}: update ncp_driver or write the file again"
            )
        body = {k: v for k, v in data.items() if k not in ("schema", "version")}
        return _record(cls, body, where)

    @classmethod
    def read(cls: type[D], path: Path | str) -> D:
        """Read and parse the file at ``path``."""
        return read_document(cls, path)


def read_document(cls: type[D], path: Path | str) -> D:
    """``cls`` parsed from the JSON file at ``path``; SchemaError names the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SchemaError(f"{path} is not a readable JSON file: {exc}") from exc
    return cls.from_json(data, str(path))


# ---------------------------------------------------------------------------- metrics.json


@dataclass(frozen=True)
class Agreement:
    """The model's curvature against the human's over some frames (1/m; None: not computable)."""

    frames: int
    mae: float | None
    rmse: float | None
    corr: float | None  # Pearson; None when either series is constant or there are < 2 frames


@dataclass(frozen=True)
class PipelineFigures:
    """The clean pipeline's counters over the replay."""

    frames_in: int
    frames_processed: int
    frames_dropped: int
    frames_rejected: int
    frames_stale: int
    nonfinite_outputs: int
    resets: dict[str, int] = field(default_factory=dict)
    limit_counts: dict[str, int] = field(default_factory=dict)
    rejections: dict[str, int] = field(default_factory=dict)  # rejected frames by reason


@dataclass(frozen=True)
class Metrics(Document):
    """``metrics.json``: how the replay ran and how its curvature agrees with the human's.

    ``autonomous`` / ``manual`` / ``all`` compare the model's output (before limits) with the
    human's curvature over those frames; ``noise`` holds the same per noise level (the key is
    the standard deviation on the [0, 1] image, e.g. ``"0.1"``). ``manual_mode`` is the
    pipeline's: with ``reset`` the recurrent state is cleared on every manual frame.
    """

    SCHEMA: ClassVar[str] = "ncp_driver/metrics"
    VERSION: ClassVar[int] = 1
    FILE: ClassVar[str] = "metrics.json"

    model: str
    kind: str
    model_sha256: str
    provider: str
    mode: str  # "frame by frame" or "batched head"
    sources: list[str]
    topics: dict[str, str | None]
    frames: int
    statuses: dict[str, int]
    seconds: float
    frames_per_second: float | None
    pipeline: PipelineFigures
    skipped_messages: dict[str, int]
    human_label: bool
    autonomous: Agreement
    manual: Agreement
    all: Agreement
    manual_mode: str = "reset"
    # the bag's completeness (Recording.integrity()): "complete", "losses", "counts_unchecked"
    input: dict[str, Any] = field(default_factory=dict)
    noise_seed: int | None = None
    noise: dict[str, dict[str, Agreement]] = field(default_factory=dict)

    def by_mode(self) -> dict[str, Agreement]:
        return {"autonomous": self.autonomous, "manual": self.manual, "all": self.all}


# -------------------------------------------------------------------------- takeovers.json


@dataclass(frozen=True)
class TakeoverEvent:
    """One autonomous-to-manual transition of the recorded flag."""

    number: int
    stamp: float  # record time, s since the epoch
    time_utc: str
    since_start_s: float
    latitude: float | None
    longitude: float | None
    speed_mps: float | None


@dataclass(frozen=True)
class Segment:
    autonomous: bool
    start: float
    end: float


@dataclass(frozen=True)
class Takeovers(Document):
    """``takeovers.json`` (``ncp-bag takeovers --json``): the recorded drive's takeovers."""

    SCHEMA: ClassVar[str] = "ncp_driver/takeovers"
    VERSION: ClassVar[int] = 1
    FILE: ClassVar[str] = "takeovers.json"

    bags: list[str]
    auto_topic: str
    gps_topic: str | None
    speed_source: str | None
    min_duration_s: float
    recording_s: float
    takeovers: int
    autonomous_s: float
    autonomous_km: float | None
    takeovers_per_hour: float | None
    takeovers_per_km: float | None
    events: list[TakeoverEvent]
    segments: list[Segment]
    skipped_messages: dict[str, int] = field(default_factory=dict)
    map: str | None = None  # the map figure, when one was drawn
    input: dict[str, Any] = field(default_factory=dict)  # the bag's completeness


# ------------------------------------------------------------------------- discomfort.json


@dataclass(frozen=True)
class DiscomfortSource:
    """Lateral acceleration and jerk from one source (GPS, odometry, IMU) of the recording."""

    source: str
    topic: str
    samples: int
    duration_s: float
    a_lat_rms: float | None
    a_lat_p95: float | None
    a_lat_max: float | None
    jerk_rms: float | None
    jerk_p95: float | None
    jerk_max: float | None
    a_lat_over_limit_share: float | None
    jerk_over_limit_share: float | None


@dataclass(frozen=True)
class DiscomfortLimits:
    a_lat_mps2: float
    jerk_mps3: float


@dataclass(frozen=True)
class Discomfort(Document):
    """``discomfort.json`` (``ncp-bag discomfort --json``): the recorded drive's comfort."""

    SCHEMA: ClassVar[str] = "ncp_driver/discomfort"
    VERSION: ClassVar[int] = 1
    FILE: ClassVar[str] = "discomfort.json"

    bags: list[str]
    scope: str  # "autonomous" or "all driving"
    auto_topic: str | None
    limits: DiscomfortLimits
    settings: dict[str, Any]
    sources: list[DiscomfortSource]
    skipped_messages: dict[str, int] = field(default_factory=dict)
    plot: str | None = None  # the figure, when one was drawn
    input: dict[str, Any] = field(default_factory=dict)  # the bag's completeness

    def main_source(self) -> DiscomfortSource | None:
        """The source with the most samples (the one the report shows)."""
        return max(self.sources, key=lambda s: s.samples) if self.sources else None


# ----------------------------------------------------------------------------- active.json


@dataclass(frozen=True)
class SimRoad:
    """One procedural road of the set: its seed, the length driven, its tightest radius."""

    seed: int
    length_m: float
    min_radius_m: float | None


@dataclass(frozen=True)
class SimModel:
    """Who drove: a model file or the expert (``path`` and ``sha256`` None)."""

    name: str
    kind: str  # "model" or "expert"
    path: str | None
    sha256: str | None
    compute_s: float  # the pipeline's compute time added to the actuator delay


@dataclass(frozen=True)
class ActiveRun:
    """One closed-loop drive: one model at one noise level on one road."""

    model: str
    noise_std: float | None  # None: the expert (no camera)
    road_seed: int
    distance_m: float
    autonomous_m: float
    autonomous_s: float
    takeovers: int
    takeover_times_s: list[float]
    takeover_road_s_m: list[float]
    lateral_offset_mean_m: float | None
    lateral_offset_max_m: float | None
    a_lat_rms: float | None
    a_lat_p95: float | None
    a_lat_max: float | None
    jerk_rms: float | None
    jerk_p95: float | None
    jerk_max: float | None
    frames: int
    frame_statuses: dict[str, int]
    bag: str | None = None  # the run's bag under the output directory, unless --no-bags


@dataclass(frozen=True)
class ActiveResult:
    """One model at one noise level: the totals over the roads (rates with 95 % intervals)."""

    model: str
    noise_std: float | None
    roads: int
    takeovers: int
    autonomous_km: float
    autonomous_s: float
    takeovers_per_km: float | None
    takeovers_per_km_95: list[float | None]
    takeovers_per_100km: float | None
    takeovers_per_100km_95: list[float | None]
    lateral_offset_mean_m: float | None
    lateral_offset_max_m: float | None
    a_lat_rms: float | None
    a_lat_max: float | None
    jerk_rms: float | None
    jerk_max: float | None
    runs: list[ActiveRun]


@dataclass(frozen=True)
class Active(Document):
    """``active.json`` (``ncp-sim``): per model and noise level, the closed-loop figures.

    Only what the seeds decide: identical settings and seeds give an identical document.
    """

    SCHEMA: ClassVar[str] = "ncp_driver/active"
    VERSION: ClassVar[int] = 1
    FILE: ClassVar[str] = "active.json"

    takeover_rule: str
    settings: dict[str, Any]  # SimSettings.to_dict()
    roads: list[SimRoad]
    models: list[SimModel]
    results: list[ActiveResult]


# ---------------------------------------------------------------------- partial_input.json


@dataclass(frozen=True)
class InputLoss:
    """Messages a bag declares on a topic that the read did not give (``TopicLoss.to_json``)."""

    topic: str
    files: list[str]
    declared: int | None  # None: the files declare no counts (the read stopped with an error)
    read: int
    missing: int | None  # declared - read
    gap_from_ns: int  # the largest gap in what was read on the topic: record times, ns
    gap_to_ns: int
    gap_from_s: float  # the same, s into the recording
    gap_to_s: float
    error: str = ""  # what stopped the reading, when it stopped with an error


@dataclass(frozen=True)
class PartialInput(Document):
    """``partial_input.json``: what a damaged bag lost, beside the folder extracted from it.

    The same fields as ``Recording.integrity()``, the ``input`` block of the ``--json`` outputs
    and of ``metrics.json``."""

    SCHEMA: ClassVar[str] = "ncp_driver/partial_input"
    VERSION: ClassVar[int] = 1
    FILE: ClassVar[str] = "partial_input.json"

    complete: bool
    losses: list[InputLoss]
    counts_unchecked: list[str]  # files that declared no message counts to check against

    @classmethod
    def from_integrity(cls, integrity: dict[str, Any]) -> PartialInput:
        """The document of ``Recording.integrity()`` (checked against this schema)."""
        return _record(cls, integrity, cls.FILE)


# ---------------------------------------------------------------------------- summary.json


@dataclass(frozen=True)
class FleetCheck:
    """One check of the regression gate: a figure against its limit (``passed`` None: n/a)."""

    check: str
    value: float | None
    limit: float
    passed: bool | None
    detail: str


@dataclass(frozen=True)
class FleetVerdict:
    """The gate's verdict over the fleet; ``exit_code`` is ``ncp-eval``'s."""

    result: str
    passed: bool
    regression: bool
    drives_evaluated: int
    drives_failed: int
    drives_partial: int
    strict: bool
    checks: list[FleetCheck]
    reasons: list[str]
    exit_code: int


@dataclass(frozen=True)
class FleetSummary(Document):
    """``summary.json`` (``ncp-eval``): the models, settings, per-drive and pooled figures,
    the worst divergences, the failures and the verdict."""

    SCHEMA: ClassVar[str] = "ncp_driver/fleet_summary"
    VERSION: ClassVar[int] = 1
    FILE: ClassVar[str] = "summary.json"

    models: dict[str, dict[str, Any]]  # role -> the model's file, hash, kind, neurons
    neuron_comparison: str
    settings: dict[str, Any]
    outputs: dict[str, Any]
    gate: dict[str, Any]
    drives: list[dict[str, Any]]
    overall: dict[str, Any]
    tags: dict[str, Any]
    worst_divergences: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    verdict: FleetVerdict
    run: dict[str, Any] = field(default_factory=dict)  # backend, seconds, cache use
    closed_loop: dict[str, Any] | None = None  # with --sim-roads (ncp_driver.fleet.sim)
    plot: str | None = None
    tables: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------- the audit's <analysis>.json


@dataclass(frozen=True)
class NeuronActivitySummary(Document):
    """``neuron_activity.json``: per neuron (in ``labels`` order) the mean and std activity."""

    SCHEMA: ClassVar[str] = "ncp_driver/audit/neuron_activity"
    VERSION: ClassVar[int] = 1
    FILE: ClassVar[str] = "neuron_activity.json"

    frames: int
    neurons: int
    labels: list[str]
    highlighted: list[int]  # the neurons drawn on the GPS trace
    mean: list[float | None]
    std: list[float | None]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TimeConstantsSummary(Document):
    """``time_constants.json``: per neuron the LTC time constant's median, 5th and 95th
    percentile along the drive (s)."""

    SCHEMA: ClassVar[str] = "ncp_driver/audit/time_constants"
    VERSION: ClassVar[int] = 1
    FILE: ClassVar[str] = "time_constants.json"

    frames: int
    labels: list[str]
    median_s: list[float | None]
    p5_s: list[float | None]
    p95_s: list[float | None]
    sensory_synapses: bool
    time_unit_s: float
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PcaSummary(Document):
    """``pca.json``: the variance each principal component of the activity explains."""

    SCHEMA: ClassVar[str] = "ncp_driver/audit/pca"
    VERSION: ClassVar[int] = 1
    FILE: ClassVar[str] = "pca.json"

    frames: int
    explained_ratio: list[float | None]
    cumulative: list[float | None]
    components: list[list[float]]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SaliencySummary(Document):
    """``saliency.json``: the saliency maps' structural similarity under input noise."""

    SCHEMA: ClassVar[str] = "ncp_driver/audit/saliency"
    VERSION: ClassVar[int] = 1
    FILE: ClassVar[str] = "saliency.json"

    model: str
    layers: list[str]
    levels: list[float]
    seed: int
    frames: int
    ssim_mean: list[float]  # per noise level
    ssim_std: list[float]
    takeovers: dict[str, int]  # noise level -> crashes, when given
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LipschitzSummary(Document):
    """``lipschitz.json``: the local Lipschitz constants of the state update along the drive."""

    SCHEMA: ClassVar[str] = "ncp_driver/audit/lipschitz"
    VERSION: ClassVar[int] = 1
    FILE: ClassVar[str] = "lipschitz.json"

    frames: int
    max_spectral_norm: float | None
    median_spectral_norm: float | None
    p95_spectral_norm: float | None
    row_sum_max: list[float]
    eps: float
    kind: str
    state_size: int
    rollout_vs_neurons_max_abs: float | None = None  # recomputed states against neurons.csv
    notes: list[str] = field(default_factory=list)


ANALYSIS_DOCUMENTS: dict[str, type[Document]] = {
    "neuron_activity": NeuronActivitySummary,
    "time_constants": TimeConstantsSummary,
    "pca": PcaSummary,
    "saliency": SaliencySummary,
    "lipschitz": LipschitzSummary,
}
"""The audit's analysis name -> the document of its ``<analysis>.json``."""


# ---------------------------------------------------------------------------- compare.json


@dataclass(frozen=True)
class CompareDrive:
    """A held-out drive of the passive test: its file, the seed it was made from, its fold."""

    name: str
    path: str | None  # None: generated inside the run (not kept)
    seed: int | None  # the ncp-synth seed, when generated
    frames: int
    fold: int


@dataclass(frozen=True)
class CompareFold:
    """One model's open-loop agreement with the drives' curvature over one fold's drives."""

    fold: int
    drives: list[str]
    frames: int
    mae: float | None  # 1/m
    rmse: float | None
    corr: float | None


@dataclass(frozen=True)
class Spread:
    """Mean and (population) standard deviation of a figure across folds or frames."""

    mean: float | None
    std: float | None


@dataclass(frozen=True)
class ComparePassive:
    """Open loop: per fold, and mean +- std across the folds."""

    folds: list[CompareFold]
    mae: Spread
    rmse: Spread
    corr: Spread


@dataclass(frozen=True)
class CompareAttention:
    """SSIM of VisualBackProp saliency under input noise against the noise-free maps."""

    levels: list[float]
    frames: int
    seed: int
    ssim_mean: list[float | None]  # per level
    ssim_std: list[float | None]
    layers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CompareSmoothness:
    """The audit's local Lipschitz constants of the state update along one held-out drive."""

    drive: str
    frames: int
    state_size: int
    max_spectral_norm: float | None
    median_spectral_norm: float | None
    p95_spectral_norm: float | None
    eps: float


@dataclass(frozen=True)
class CompareSize:
    """What the model costs: parameters, synapses (NCP wiring), file size, latency here."""

    parameters: int | None
    parameters_source: str  # "model card" or "ONNX initializers"
    synapses: int | None  # None: not an NCP wiring
    neurons: int
    state_size: int
    file_bytes: int
    latency_ms_median: float | None  # the model cards' figure: one onnxruntime step per frame
    latency_ms_p90: float | None
    latency_runs: int
    latency_what: str  # what was timed, as ncp_driver.modelcard.latency says


@dataclass(frozen=True)
class CompareModel:
    """One model's column of the comparison; ``None`` where a part was not run or failed
    (``errors`` says which and why; ``smoothness_note`` why there is no Lipschitz figure)."""

    name: str
    path: str
    sha256: str
    kind: str
    card: str | None  # the model card beside it, when there is one
    size: CompareSize
    passive: ComparePassive | None = None
    attention: CompareAttention | None = None
    smoothness: CompareSmoothness | None = None
    smoothness_note: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CompareStatement:
    """One ranking computed from the numbers: who is best at ``figure`` and by how much."""

    figure: str
    better: str  # "lower" or "higher"
    best: list[str]  # the model(s) with the best value (ties share it)
    value: float | None
    text: str


@dataclass(frozen=True)
class Compare(Document):
    """``compare.json`` (``ncp-compare``): every model side by side, passive, active,
    attention, smoothness and size, with the rankings the page states."""

    SCHEMA: ClassVar[str] = "ncp_driver/compare"
    VERSION: ClassVar[int] = 1
    FILE: ClassVar[str] = "compare.json"

    settings: dict[str, Any]
    drives: list[CompareDrive]
    models: list[CompareModel]
    active: Active | None  # ncp-sim's document: driven here, or read with --sim
    active_source: str  # "driven" or the active.json read
    ranking: list[CompareStatement]
    timing_s: dict[str, float]
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

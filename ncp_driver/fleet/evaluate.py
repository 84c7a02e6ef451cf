"""A fleet evaluation from drives to the summary: plan (the cache), run (pool or Ray), aggregate,
verdict. :func:`evaluate_fleet` is the library entry point; ``ncp-eval`` is its command line.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver.audit.replay import Replay
from ncp_driver.errors import MissingModelError
from ncp_driver.fleet import cache
from ncp_driver.fleet.compare import (
    MODES,
    DriveFrames,
    Stretch,
    agreement_doc,
    diff_stats,
    difference_of,
    load_drive,
    neuron_difference_of,
    neuron_stats,
    worst_stretches,
)
from ncp_driver.fleet.drives import DriveSpec
from ncp_driver.fleet.runners import run_local, run_ray
from ncp_driver.fleet.verdict import Gate, verdict
from ncp_driver.fleet.work import DriveOutcome, DriveTask, ModelRef, Outputs
from ncp_driver.replay import ReplaySettings
from ncp_driver.schemas import FleetSummary

__all__ = ["EvalOptions", "FleetResult", "evaluate_fleet"]


@dataclass(frozen=True)
class EvalOptions:
    """How to evaluate: models, replay settings, the gate, and how to run."""

    candidate: Path
    reference: Path | None = None
    settings: ReplaySettings | None = None  # the model field is replaced per model
    outputs: Outputs = field(default_factory=Outputs)
    gate: Gate = field(default_factory=Gate)
    jobs: int = 0  # 0: one per core
    timeout_s: float | None = None  # per drive
    ray: str | None = None  # None: the local pool; ADDRESS, "auto" or "local"
    ray_cpus: int | None = None  # CPUs of a `--ray local` instance (default: all)
    cache_dir: Path | None = None  # default OUT/cache
    refresh: bool = False  # ignore cached entries (they are replaced)
    worst: int = 10  # worst divergent stretches listed
    min_gap_s: float = 2.0  # between two stretches' peaks


@dataclass
class FleetResult:
    """The aggregates of one evaluation; :mod:`ncp_driver.fleet.output` writes them down."""

    summary: dict[str, Any]
    drives: list[DriveFrames]  # the evaluated ones, in drive order
    stretches: list[Stretch]
    specs: list[DriveSpec]

    @property
    def exit_code(self) -> int:
        return int(self.summary["verdict"]["exit_code"])


def _model(role: str, path: Path, settings: ReplaySettings) -> tuple[ModelRef, dict[str, Any]]:
    """Check the model opens as the car would open it (the pipeline's reason if not)."""
    from ncp_driver.runtime import SteeringModel

    if not Path(path).is_file():
        raise MissingModelError(f"--{role} {path} does not exist: give an exported .onnx model")
    model = SteeringModel.load(path, replace(settings.pipeline, model_path=str(path)))
    info = {
        "path": str(path),
        "sha256": model.model_hash,
        "kind": model.contract.kind,
        "neurons": model.contract.neuron_count,
    }
    return ModelRef(role, Path(os.path.abspath(path)), model.model_hash), info


def _cores() -> int:
    """The cores this process may run on (a container's or a CPU set's, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _relative(path: Path, out_dir: Path) -> str:
    try:
        return str(path.resolve().relative_to(out_dir.resolve()))
    except ValueError:
        return str(path.resolve())


def evaluate_fleet(
    drives: Sequence[DriveSpec],
    options: EvalOptions,
    out_dir: Path,
    on_done: Callable[[DriveOutcome], None] | None = None,
) -> FleetResult:
    """Evaluate the candidate (and the reference) on every drive; see the package docstring."""
    begin = time.perf_counter()
    settings = options.settings or ReplaySettings(model=options.candidate)
    cache_dir = Path(options.cache_dir or out_dir / "cache")
    cache_dir.mkdir(parents=True, exist_ok=True)
    models = [_model("candidate", options.candidate, settings)]
    if options.reference is not None:
        models.append(_model("reference", options.reference, settings))
    refs = tuple(m for m, _ in models)
    tasks: list[DriveTask] = []
    outcomes: dict[int, DriveOutcome] = {}
    for index, drive in enumerate(drives):
        known = None if options.refresh else cache.lookup_memo(drive.path, cache_dir)
        # Absolute paths: workers (another process, a Ray node) need not share our directory.
        absolute = replace(drive, path=Path(os.path.abspath(drive.path)))
        task = DriveTask(
            index, absolute, refs, settings, options.outputs, known, refresh=options.refresh
        )
        if known is not None:
            keys = task.replay_keys(known)
            ctx = cache.context_key(settings, known)
            have = {k for k in keys.values() if cache.replay_entry(cache_dir, k).is_dir()}
            if cache.context_entry(cache_dir, ctx).is_file():
                have.add(ctx)
            if have == {*keys.values(), ctx}:
                outcome = DriveOutcome(index, drive.name, "ok", None, known, keys, ctx, [], 0.0)
                outcomes[index] = outcome
                if on_done is not None:
                    on_done(outcome)
                continue
            task = replace(task, cached_keys=frozenset(have))
        tasks.append(task)
    jobs = options.jobs or _cores()
    if tasks:
        if options.ray is not None:
            ran = run_ray(
                tasks, cache_dir, options.ray, options.timeout_s, on_done, options.ray_cpus
            )
        else:
            ran = run_local(tasks, cache_dir, jobs, options.timeout_s, on_done)
        outcomes.update({o.index: o for o in ran})
        cache.remember(
            cache_dir,
            {drives[o.index].path: o.bag_hash for o in ran if o.bag_hash is not None},
        )
    ordered = [outcomes[i] for i in range(len(drives))]
    result = _aggregate(
        drives,
        ordered,
        {ref.role: info for ref, info in models},
        options,
        settings,
        cache_dir,
        out_dir,
    )
    result.summary["run"] = {
        "backend": f"ray {options.ray}" if options.ray is not None else f"local pool ({jobs})",
        "seconds": round(time.perf_counter() - begin, 3),
        "replayed": {o.name: o.replayed for o in ordered if o.replayed},
        "from_cache": [o.name for o in ordered if o.status == "ok" and not o.replayed],
        "drive_seconds": {o.name: round(o.seconds, 3) for o in ordered},
        "cache": str(cache_dir),
    }
    return result


def _context_doc(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _aggregate(
    specs: Sequence[DriveSpec],
    outcomes: list[DriveOutcome],
    model_info: dict[str, dict[str, Any]],
    options: EvalOptions,
    settings: ReplaySettings,
    cache_dir: Path,
    out_dir: Path,
) -> FleetResult:
    gate = options.gate
    roles = list(model_info)
    loaded: list[DriveFrames] = []
    drive_docs: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    partial: list[str] = []
    for outcome in outcomes:
        spec = specs[outcome.index]
        doc: dict[str, Any] = {**spec.to_json(), "status": outcome.status, "reason": outcome.reason}
        frames: DriveFrames | None = None
        if outcome.status == "ok":
            try:
                directories = {
                    r: cache.replay_entry(cache_dir, outcome.replay_keys[r]) for r in roles
                }
                assert outcome.context_key is not None
                context = _context_doc(cache.context_entry(cache_dir, outcome.context_key))
                frames = load_drive(outcome.index, spec, directories, context)
            except (OSError, ValueError, KeyError) as exc:  # a damaged cache entry, say so
                doc.update(status="failed", reason=f"its replay could not be read back: {exc}")
        partial_input = _partial_input(frames.replays) if frames is not None else None
        if partial_input is not None:  # results from partial input are no results: a failure
            doc.update(
                status="failed", reason=f"damaged input, replayed only in part: {partial_input}"
            )
            frames = None
        if frames is None:
            failures.append({"name": spec.name, "path": str(spec.path), "reason": doc["reason"]})
            drive_docs.append(doc)
            continue
        doc.update(_drive_doc(frames, roles, gate, cache_dir, out_dir, outcome))
        if doc["damage"]:
            doc["status"] = "partial"
            doc["reason"] = doc["damage"]
            partial.append(spec.name)
        loaded.append(frames)
        drive_docs.append(doc)
    overall = _pooled(loaded, roles, gate)
    evaluated = [d for d in drive_docs if d["status"] != "failed"]
    stretches = worst_stretches(loaded, options.worst, options.min_gap_s)
    summary: dict[str, Any] = {
        "schema": FleetSummary.SCHEMA,
        "version": FleetSummary.VERSION,
        "models": model_info,
        "neuron_comparison": _neuron_comparable(model_info),
        "settings": cache.settings_document(settings),
        "outputs": asdict(options.outputs),
        "gate": gate.to_json(),
        "drives": drive_docs,
        "overall": overall,
        "tags": _tags(loaded, roles, gate),
        "worst_divergences": [_stretch_doc(s, loaded) for s in stretches],
        "failures": failures,
        "verdict": verdict(gate, overall, evaluated, failures, partial),
    }
    return FleetResult(summary, loaded, stretches, list(specs))


def _neuron_comparable(info: dict[str, dict[str, Any]]) -> str:
    if "reference" not in info:
        return "no reference"
    c, r = info["candidate"], info["reference"]
    if c["kind"] != r["kind"] or c["neurons"] != r["neurons"]:
        return (
            f"not compared: candidate {c['kind']} with {c['neurons']} neurons, reference "
            f"{r['kind']} with {r['neurons']}"
        )
    return f"compared ({c['kind']}, {c['neurons']} neurons)"


def _partial_input(replays: dict[str, Replay]) -> str | None:
    """What the replays' ``metrics.json`` say was lost from the bag, or None.

    The replay records the bag's completeness in :attr:`ncp_driver.schemas.Metrics.input`
    (``Recording.integrity()``): ``complete`` is false when ``--allow-partial`` accepted a bag
    that held fewer messages than it declares, and ``losses`` says what was lost."""
    notes = []
    for role, replay in replays.items():
        integrity = replay.metrics.input
        if integrity.get("complete", True) is not False:
            continue
        losses = integrity.get("losses") or []
        lost = ", ".join(_loss(loss) for loss in losses if isinstance(loss, dict))
        notes.append(f"{role} replay: input incomplete ({lost or 'losses not listed'})")
    return "; ".join(notes) or None


def _loss(loss: dict[str, Any]) -> str:
    """One entry of ``losses`` (``ncp_driver.bags.reader``'s ``to_json``), for a reason."""
    missing, declared = loss.get("missing"), loss.get("declared")
    what = (
        f"{missing} of {declared} message(s) lost"
        if missing is not None
        else f"{loss.get('read')} read, none declared"
    )
    error = f" ({loss['error']})" if loss.get("error") else ""
    return f"{loss.get('topic')}: {what}{error}"


def _damage(frames: DriveFrames) -> str | None:
    """Messages skipped as undecodable (counted, as the replay does), or None."""
    lost: dict[str, int] = {}
    for replay in frames.replays.values():
        for topic, n in replay.metrics.skipped_messages.items():
            lost[topic] = max(lost.get(topic, 0), int(n))
    for topic, n in (frames.context.get("skipped_messages") or {}).items():
        lost[topic] = max(lost.get(topic, 0), int(n))
    if not lost:
        return None
    return "messages that did not deserialise were skipped: " + ", ".join(
        f"{n} on {t}" for t, n in sorted(lost.items())
    )


def _mode_change(cand: dict[str, Any], ref: dict[str, Any]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for mode in MODES:
        c, r = cand[mode]["mae"], ref[mode]["mae"]
        if c is None or r is None:
            out[mode] = None
        elif r == 0:
            out[mode] = 0.0 if c == 0 else None
        else:
            out[mode] = c / r - 1.0
    return out


def _drive_doc(
    frames: DriveFrames,
    roles: list[str],
    gate: Gate,
    cache_dir: Path,
    out_dir: Path,
    outcome: DriveOutcome,
) -> dict[str, Any]:
    human, auto = frames.human, frames.autonomous
    doc: dict[str, Any] = {
        "frames": frames.frames,
        "bag_sha256": outcome.bag_hash,
        "context": {k: v for k, v in frames.context.items() if k != "skipped_messages"},
        "damage": _damage(frames),
        "replays": {
            r: _relative(cache.replay_entry(cache_dir, outcome.replay_keys[r]), out_dir)
            for r in roles
        },
    }
    for role in roles:
        doc[role] = agreement_doc(frames.curvature(role), human, auto)
    diff = frames.difference()
    if diff is not None:
        doc["mae_change"] = _mode_change(doc["candidate"], doc["reference"])
        doc["difference"] = diff_stats(diff, gate.diff_threshold)
        doc["neuron_difference"] = neuron_stats(frames.neuron_diff)
    return doc


def _concat(drives: list[DriveFrames], get: Callable[[DriveFrames], np.ndarray]) -> np.ndarray:
    parts = [get(d) for d in drives]
    return np.concatenate(parts) if parts else np.empty(0)


def _curvature(role: str) -> Callable[[DriveFrames], np.ndarray]:
    return lambda d: d.curvature(role)


def _pooled(drives: list[DriveFrames], roles: list[str], gate: Gate) -> dict[str, Any]:
    human = _concat(drives, lambda d: d.human)
    auto = _concat(drives, lambda d: d.autonomous).astype(bool)
    doc: dict[str, Any] = {"drives": len(drives), "frames": int(human.size)}
    for role in roles:
        doc[role] = agreement_doc(_concat(drives, _curvature(role)), human, auto)
    if "reference" in roles:
        doc["mae_change"] = _mode_change(doc["candidate"], doc["reference"])
        doc["difference"] = diff_stats(_concat(drives, difference_of), gate.diff_threshold)
        nd = neuron_stats(_concat(drives, neuron_difference_of))
        weighted = [
            (int(np.isfinite(neuron_difference_of(d)).sum()), d.neuron_diff_per_neuron)
            for d in drives
        ]
        ok = [(w, p) for w, p in weighted if p is not None and w]
        if nd is not None and ok:
            total = sum(w for w, _ in ok)
            mean = np.sum([w * p for w, p in ok], axis=0) / total
            nd["per_neuron_mean"] = [float(v) for v in mean]
        doc["neuron_difference"] = nd
    km = [d.context.get("autonomous_km") for d in drives]
    counts = [d.context.get("takeovers") for d in drives]
    known = [(k, c) for k, c in zip(km, counts, strict=True) if k is not None and c is not None]
    total_km = sum(k for k, _ in known)
    doc["context"] = {
        "takeovers": sum(c for _, c in known) if known else None,
        "autonomous_km": total_km if known else None,
        "takeovers_per_km": (sum(c for _, c in known) / total_km) if total_km > 0 else None,
    }
    return doc


def _tags(drives: list[DriveFrames], roles: list[str], gate: Gate) -> dict[str, Any]:
    keys = sorted({k for d in drives for k in d.drive.tags})
    out: dict[str, Any] = {}
    for key in keys:
        values = sorted({d.drive.tags[key] for d in drives if key in d.drive.tags})
        out[key] = {}
        for value in values:
            group = [d for d in drives if d.drive.tags.get(key) == value]
            out[key][value] = {
                "names": [d.drive.name for d in group],
                **_pooled(group, roles, gate),
            }
    return out


def _stretch_doc(stretch: Stretch, drives: list[DriveFrames]) -> dict[str, Any]:
    frames = next(d for d in drives if d.index == stretch.drive)
    t = frames.bag_time
    i = stretch.peak

    def at(values: np.ndarray) -> float | None:
        v = float(values[i])
        return v if math.isfinite(v) else None

    return {
        "drive": frames.drive.name,
        "bag": str(frames.drive.path),
        "tags": dict(frames.drive.tags),
        "first_frame": stretch.first,
        "last_frame": stretch.last,
        "peak_frame": i,
        "start_s": float(t[stretch.first] - frames.start_s),
        "end_s": float(t[stretch.last] - frames.start_s),
        "peak_s": float(t[i] - frames.start_s),
        "peak_bag_time": float(t[i]),
        "peak_difference": stretch.peak_diff,
        "candidate": at(frames.curvature("candidate")),
        "reference": at(frames.curvature("reference")),
        "human": at(frames.human),
        "autonomous": bool(frames.autonomous[i]),
        "thumbnail": None,
        "plot": None,
    }

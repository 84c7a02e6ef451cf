"""One drive's work: the replay of each model through the on-car pipeline, and the drive's context.

:func:`evaluate_drive` is what a local worker process and a Ray task both run. It writes into the
cache (:mod:`ncp_driver.fleet.cache`) and returns a :class:`DriveOutcome`; a drive that cannot be
evaluated returns a failed outcome with the reason, it never raises (so one damaged bag does not
stop the others).
"""

from __future__ import annotations

import json
import time
import traceback
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ncp_driver.atomic import atomic_write_text
from ncp_driver.bags import BagError, Recording
from ncp_driver.bags.discomfort import recording_discomfort
from ncp_driver.bags.motion import MotionSettings
from ncp_driver.bags.takeovers import recording_takeovers
from ncp_driver.errors import NcpDriverError
from ncp_driver.fleet import cache
from ncp_driver.fleet.drives import DriveSpec
from ncp_driver.replay import ReplaySettings, replay, write_replay

__all__ = ["DriveOutcome", "DriveTask", "ModelRef", "drive_context", "evaluate_drive"]


@dataclass(frozen=True)
class ModelRef:
    """A model under evaluation: its role (``candidate`` or ``reference``), file and hash."""

    role: str
    path: Path
    sha256: str


@dataclass(frozen=True)
class Outputs:
    """What each replay directory holds, beside the tables (part of the cache key)."""

    table_format: str = "csv"
    mcap: bool = False
    mcap_images: bool = True


@dataclass(frozen=True)
class DriveTask:
    """Everything a worker needs for one drive (picklable, for processes and Ray)."""

    index: int
    drive: DriveSpec
    models: tuple[ModelRef, ...]
    settings: ReplaySettings
    outputs: Outputs = field(default_factory=Outputs)
    bag_hash: str | None = None  # known already (the memo), else hashed by the worker
    cached_keys: frozenset[str] = frozenset()  # entries the caller holds already: not redone
    refresh: bool = False  # replay again even where the cache has the entry (and replace it)

    def replay_keys(self, bag_hash: str) -> dict[str, str]:
        out = asdict(self.outputs)
        return {
            m.role: cache.replay_key(m.sha256, self.settings, out, bag_hash) for m in self.models
        }


@dataclass
class DriveOutcome:
    """What became of one drive: ``ok`` (the cache holds its entries) or ``failed``."""

    index: int
    name: str
    status: str
    reason: str | None = None
    bag_hash: str | None = None
    replay_keys: dict[str, str] = field(default_factory=dict)
    context_key: str | None = None
    replayed: list[str] = field(default_factory=list)  # roles replayed now (not from the cache)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def failed(task: DriveTask, reason: str, seconds: float = 0.0) -> DriveOutcome:
    return DriveOutcome(task.index, task.drive.name, "failed", reason, seconds=seconds)


def evaluate_drive(task: DriveTask, cache_dir: Path) -> DriveOutcome:
    """Replay every model of ``task`` over its drive (unless cached) and record its context."""
    start = time.perf_counter()
    path = task.drive.path
    try:
        bag_hash = task.bag_hash or cache.content_hash(path)
        keys = task.replay_keys(bag_hash)
        ctx_key = cache.context_key(task.settings, bag_hash)
        replayed: list[str] = []
        for model in task.models:
            entry = cache.replay_entry(cache_dir, keys[model.role])
            done = keys[model.role] in task.cached_keys or entry.is_dir()
            if (done and not task.refresh) or model.role in replayed_keys(keys, replayed, model):
                continue
            result = replay([path], replace(task.settings, model=model.path))
            entry.parent.mkdir(parents=True, exist_ok=True)
            write_replay(
                result,
                entry,
                table_format=task.outputs.table_format,
                mcap=task.outputs.mcap,
                mcap_images=task.outputs.mcap_images,
                force=True,
            )
            replayed.append(model.role)
        context_path = cache.context_entry(cache_dir, ctx_key)
        known = ctx_key in task.cached_keys or context_path.is_file()
        if task.refresh or not known:
            doc = drive_context(path, task.settings)
            atomic_write_text(context_path, json.dumps(doc, indent=1, sort_keys=True) + "\n")
    except NcpDriverError as exc:
        return failed(task, str(exc), time.perf_counter() - start)
    except Exception as exc:  # an unexpected failure is still this drive's alone
        where = traceback.extract_tb(exc.__traceback__)[-1]
        reason = f"{type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})"
        return failed(task, reason, time.perf_counter() - start)
    return DriveOutcome(
        task.index,
        task.drive.name,
        "ok",
        bag_hash=bag_hash,
        replay_keys=keys,
        context_key=ctx_key,
        replayed=replayed,
        seconds=time.perf_counter() - start,
    )


def replayed_keys(keys: dict[str, str], replayed: list[str], model: ModelRef) -> set[str]:
    """``model.role`` when another role with the same key (the same model) was replayed now."""
    return {model.role} if any(keys[r] == keys[model.role] for r in replayed) else set()


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def drive_context(path: Path, settings: ReplaySettings) -> dict[str, Any]:
    """The drive as recorded: takeovers (per km) and lateral discomfort, as ``ncp-bag
    takeovers`` / ``discomfort`` count them (their library functions, defaults). They describe
    the drive and the model that drove it, not the models under evaluation; a drive without an
    auto-mode flag has no takeover figures, one without GPS, odometry or IMU no discomfort."""
    given = {"auto": settings.auto_topic, "gps": settings.gps_topic}
    doc: dict[str, Any] = dict.fromkeys(
        ("takeovers", "autonomous_s", "autonomous_km", "takeovers_per_km", "takeovers_per_hour")
    )
    doc["discomfort"] = None
    with Recording([path], settings.msg_dirs) as rec:
        doc["start_s"] = rec.start_ns * 1e-9
        doc["recording_s"] = (rec.end_ns - rec.start_ns) * 1e-9
        try:
            report = recording_takeovers(rec, given)
        except BagError as exc:  # no auto-mode flag (a TopicError): no takeover figures
            doc["takeovers_note"] = str(exc)
        else:
            doc.update(
                takeovers=report.count,
                autonomous_s=report.autonomous_s,
                autonomous_km=None if report.autonomous_m is None else report.autonomous_m / 1000,
                takeovers_per_km=report.per_km,
                takeovers_per_hour=report.per_hour,
                takeover_times_s=[t.since_start_s for t in report.takeovers],
            )
        first = dict(rec.skipped)  # each pass reads (and skips) the same bad messages again
        try:
            comfort = recording_discomfort(rec, MotionSettings(), given)
        except BagError as exc:  # no GPS, odometry or IMU
            doc["discomfort_note"] = str(exc)
        else:
            if comfort.sources:
                best = comfort.sources[0]
                doc["discomfort"] = {
                    "scope": comfort.scope,
                    "source": best.source,
                    "a_lat_rms": _num(best.a_lat_rms),
                    "a_lat_max": _num(best.a_lat_max),
                    "jerk_rms": _num(best.jerk_rms),
                    "a_lat_over_limit_share": _num(best.a_lat_over_limit_share),
                    "jerk_over_limit_share": _num(best.jerk_over_limit_share),
                }
        second = {t: n - first.get(t, 0) for t, n in rec.skipped.items()}
        doc["skipped_messages"] = {
            t: max(first.get(t, 0), second.get(t, 0)) for t in {*first, *second}
        }
    return doc

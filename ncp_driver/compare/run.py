"""One comparison from start to end: check every model, then the passive test, attention,
smoothness, size, the active test; the ranking, the figures, ``compare.json`` and the page,
written into a directory that appears complete or not at all.

A model the car's pipeline refuses stops the comparison before any long work (exit 1, naming
it). A step that fails for one model later (its head cannot be cut for saliency, say) is
recorded in that model's ``errors`` and on the page; the rest still runs and the command
exits 1.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver.atomic import atomic_write_text
from ncp_driver.bags.output import atomic_dir, check_new
from ncp_driver.compare.active import drive_all, read_active, task_count
from ncp_driver.compare.attention import attention, saliency_frames
from ncp_driver.compare.drives import HeldOutDrive, given_drives, make_drives
from ncp_driver.compare.errors import CompareSettingsError, ModelUnusableError
from ncp_driver.compare.figures import write_figures
from ncp_driver.compare.page import render_page
from ncp_driver.compare.passive import DriveRun, fold_figures, run_drive
from ncp_driver.compare.ranking import rank
from ncp_driver.compare.settings import CompareSettings
from ncp_driver.compare.size import card_path, model_size, read_card, training_note
from ncp_driver.compare.smoothness import closed_loop_trace, lipschitz, no_state_note
from ncp_driver.errors import NcpDriverError
from ncp_driver.exitcodes import OK, PROBLEM
from ncp_driver.modelcard import latency
from ncp_driver.runtime import PipelineConfig
from ncp_driver.runtime.model import load_contract
from ncp_driver.schemas import Active, Compare, CompareModel
from ncp_driver.sim import EXPERT, Driver, SimError, open_driver
from ncp_driver.sim.experiment import model_names

__all__ = ["COMPARE_HTML", "COMPARE_JSON", "Request", "compare"]

COMPARE_JSON = "compare.json"
COMPARE_HTML = "compare.html"


@dataclass(frozen=True)
class Request:
    """What to compare, where to write it, how to show progress."""

    models: list[Path]
    out: Path
    settings: CompareSettings = field(default_factory=CompareSettings)
    drives: list[Path] = field(default_factory=list)  # empty: generate them
    sim: Path | None = None  # an ncp-sim output to read instead of driving
    expert: bool = True
    jobs: int = 1
    force: bool = False
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    progress: bool = False


class _Progress:
    """A tqdm bar per part on stderr (when shown), and each part's wall time."""

    def __init__(self, show: bool, log: Callable[[str], None]) -> None:
        self.show = show
        self.log = log
        self.timing: dict[str, float] = {}

    @contextmanager
    def part(self, name: str, total: int, unit: str) -> Iterator[Callable[[int], None]]:
        bar: Any = None
        if self.show:
            from tqdm import tqdm

            bar = tqdm(total=total, unit=unit, desc=f"ncp-compare {name}", file=sys.stderr)
        start = time.perf_counter()
        try:
            yield (lambda n: bar.update(n)) if bar is not None else (lambda n: None)
        finally:
            if bar is not None:
                bar.close()
            self.timing[name] = round(time.perf_counter() - start, 2)
            self.log(f"{name}: {self.timing[name]:.1f} s")


@dataclass
class _Column:
    """One model while it is being measured."""

    name: str
    path: Path
    driver: Driver
    runs: list[DriveRun] = field(default_factory=list)
    parts: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def attempt(self, part: str, work: Callable[..., Any], *args: Any) -> Any:
        """``work(*args)``; an error of the project's is recorded as this model's, not raised."""
        try:
            return work(*args)
        except NcpDriverError as exc:
            self.errors.append(f"{part}: {exc}")
            return None


def _open(request: Request) -> list[_Column]:
    if not request.models:
        raise CompareSettingsError("no model to compare: give --model PATH (repeatable)")
    for path in request.models:
        if not path.is_file():
            raise CompareSettingsError(f"--model {path}: no such file")
    columns = []
    for name, path in zip(model_names(request.models), request.models, strict=True):
        try:
            driver = open_driver(name, path, request.settings.sim, request.pipeline)
        except SimError as exc:  # the pipeline's refusal, with its reason and the file
            raise ModelUnusableError(f"model {name}: {exc}") from exc
        columns.append(_Column(name, path, driver))
    return columns


def _drives(request: Request, work: Path, progress: _Progress) -> list[HeldOutDrive]:
    settings = request.settings
    if request.drives:
        with progress.part("drives", 1, "set") as done:
            found = given_drives(request.drives, settings.folds)
            done(1)
            return found
    with progress.part("drives", len(settings.drive_seeds), "drive") as done:
        return make_drives(settings, work, done)


def _measure(
    request: Request, columns: list[_Column], drives: list[HeldOutDrive], progress: _Progress
) -> None:
    settings = request.settings
    with progress.part("passive", len(columns) * len(drives), "drive") as done:
        for c in columns:
            for held in drives:
                run = c.attempt(
                    f"passive ({held[0].name})", run_drive, c.path, request.pipeline, held
                )
                if run is None:
                    break
                c.runs.append(run)
                done(1)
            if len(c.runs) == len(drives):
                folds = {d.name: d.fold for d, _ in drives}
                c.parts["passive"] = fold_figures(c.runs, folds)
    frames_of: dict[str, np.ndarray] = {}
    with progress.part("attention", len(columns), "model") as done:
        for c in columns:
            spec = load_contract(c.path).preprocessing
            key = spec.to_json()
            if key not in frames_of:
                frames_of[key] = saliency_frames(drives, spec, settings.saliency_frames)
            c.parts["attention"] = c.attempt(
                "attention", attention, c.path, frames_of[key], settings.noise_levels,
                settings.noise_seed,
            )  # fmt: skip
            done(1)
    with progress.part("smoothness", len(columns), "model") as done:
        for c in columns:
            contract = load_contract(c.path)
            if not contract.stateful:
                c.parts["smoothness_note"] = no_state_note(contract.kind)
            else:
                trace = c.attempt("smoothness", closed_loop_trace, c.driver, settings.sim)
                if trace is not None:
                    c.parts["smoothness"] = c.attempt(
                        "smoothness", lipschitz, c.path, trace, settings.lipschitz_frames
                    )
            done(1)
    with progress.part("size", len(columns), "model") as done:
        for c in columns:
            c.parts["latency"] = c.attempt("latency", latency, c.path, settings.latency_runs)
            done(1)


def _given_active(request: Request, columns: list[_Column]) -> Active | None:
    """``--sim``'s document, read before any long work (a wrong one is a usage error)."""
    if request.sim is None:
        return None
    return read_active(request.sim, {c.name: c.driver.sha256 or "" for c in columns})


def _active(
    request: Request, columns: list[_Column], given: Active | None, progress: _Progress
) -> tuple[Active, str]:
    if given is not None:
        return given, str(request.sim)  # read before the long work (_given_active)
    drivers = [c.driver for c in columns]
    if request.expert:
        drivers.append(Driver(EXPERT, None, None, 0.0, None))
    total = task_count(len(columns), request.settings.sim, request.expert)
    with progress.part("active", total, "drive") as done:
        return drive_all(drivers, request.settings.sim, request.jobs, done), "driven"


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when inside it (a page that is committed
    names ``models/x.onnx``, not one machine's absolute path)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _card(c: _Column) -> tuple[str, dict[str, Any] | None]:
    """The model file's sha256, and its card when the card describes this very file."""
    sha = c.driver.sha256 or hashlib.sha256(c.path.read_bytes()).hexdigest()
    return sha, read_card(c.path, sha)


def _model(c: _Column, sha: str, card: dict[str, Any] | None) -> CompareModel:
    contract = load_contract(c.path)
    return CompareModel(
        name=c.name,
        path=_shown(c.path),
        sha256=sha,
        kind=contract.kind,
        card=_shown(card_path(c.path)) if card else None,
        size=model_size(c.path, contract, card, c.parts.get("latency")),
        passive=c.parts.get("passive"),
        attention=c.parts.get("attention"),
        smoothness=c.parts.get("smoothness"),
        smoothness_note=c.parts.get("smoothness_note", ""),
        errors=list(c.errors),
    )


def compare(request: Request, log: Callable[[str], None] = print) -> tuple[Compare, int]:
    """Run the comparison; the document and the exit status (1 when a step failed)."""
    check_new([request.out], request.force)
    progress = _Progress(request.progress, log)
    start = time.perf_counter()
    with progress.part("open", len(request.models), "model") as done:
        columns = _open(request)
        given = _given_active(request, columns)
        done(len(columns))
    with atomic_dir(request.out, request.force) as tmp, tempfile.TemporaryDirectory() as work:
        drives = _drives(request, Path(work), progress)
        _measure(request, columns, drives, progress)
        active, source = _active(request, columns, given, progress)
        cards = [_card(c) for c in columns]
        models = [_model(c, sha, card) for c, (sha, card) in zip(columns, cards, strict=True)]
        errors = [f"{m.name}: {e}" for m in models for e in m.errors]
        notes = [
            training_note([(m.name, card) for m, (_, card) in zip(models, cards, strict=True)])
        ]
        if request.sim is not None:
            notes.append(
                f"The closed-loop figures are read from {request.sim} (an earlier ncp-sim run), "
                "not driven here: its settings are in its active.json."
            )
        with progress.part("page", 1, "page") as done:
            figures = write_figures(tmp, models, active)
            progress.timing["total"] = round(time.perf_counter() - start, 2)
            doc = Compare(
                settings={**request.settings.to_dict(), "jobs": request.jobs,
                          "pipeline": asdict(request.pipeline)},
                drives=[d for d, _ in drives],
                models=models,
                active=active,
                active_source=source,
                ranking=rank(models, active),
                timing_s=dict(progress.timing),
                notes=notes,
                errors=errors,
            )  # fmt: skip
            atomic_write_text(tmp / COMPARE_JSON, doc.dumps())
            atomic_write_text(tmp / COMPARE_HTML, render_page(doc, figures, tmp))
            done(1)
    return doc, PROBLEM if errors else OK

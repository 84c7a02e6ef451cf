"""The active test: takeovers per km in closed loop, ncp-sim's library and documents.

Every model (and the expert, as a row of its own) drives ncp-sim's roads at every noise level
through :func:`ncp_driver.sim.run_all`, with the same :class:`~ncp_driver.sim.SimSettings`
``ncp-sim`` would use; the result is ncp-sim's own ``active.json`` document
(:class:`~ncp_driver.schemas.Active`, 95 % Poisson intervals included). Or an existing
``ncp-sim`` output is read instead (``--sim DIR``), its models matched by sha256.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ncp_driver.compare.errors import CompareSettingsError
from ncp_driver.schemas import Active, SchemaError
from ncp_driver.sim import EXPERT, Driver, RunTask, SimSettings, run_all
from ncp_driver.sim.outputs import ACTIVE_JSON, active_document, road_entry

__all__ = ["drive_all", "read_active", "task_count"]


def _tasks(drivers: Sequence[Driver], settings: SimSettings) -> list[RunTask]:
    tasks = []
    for driver in drivers:
        levels = [None] if driver.path is None else list(settings.noise_levels)
        for level in levels:
            for seed in settings.road_seeds:
                tasks.append(RunTask(driver, level, seed, None, None))
    return tasks


def task_count(models: int, settings: SimSettings, expert: bool) -> int:
    """The closed-loop drives of ``models`` models (and the expert)."""
    return (models * len(settings.noise_levels) + int(expert)) * settings.roads


def drive_all(
    drivers: Sequence[Driver],
    settings: SimSettings,
    jobs: int,
    done: Callable[[int], None] | None = None,
) -> Active:
    """Every driver on every road at every noise level (the expert once): ncp-sim's document."""
    tasks = _tasks(drivers, settings)
    results = run_all(tasks, settings, jobs, done)
    runs: list[dict[str, Any]] = [
        {"model": task.driver.name, "noise_std": task.noise_std, **result["figures"]}
        for task, result in zip(tasks, results, strict=True)
    ]
    roads = [road_entry(settings, seed) for seed in settings.road_seeds]
    return active_document(settings.to_dict(), [d.describe() for d in drivers], roads, runs)


def read_active(directory: Path, models: dict[str, str]) -> Active:
    """``directory``'s active.json, renamed to our names (``models``: name -> sha256) and kept
    to our models and the expert; every model must have driven there."""
    path = directory / ACTIVE_JSON if directory.is_dir() else directory
    if not path.is_file():
        raise CompareSettingsError(f"--sim {directory}: no {ACTIVE_JSON} there (an ncp-sim output)")
    try:
        doc = Active.read(path)
    except SchemaError as exc:
        raise CompareSettingsError(f"--sim {directory}: {exc}") from exc
    by_sha = {m.sha256: m.name for m in doc.models if m.sha256}
    rename = {}
    for name, sha in models.items():
        if sha not in by_sha:
            raise CompareSettingsError(
                f"--sim {path} has no run of model {name} (sha256 {sha[:12]}): run ncp-sim with "
                f"--model for it, or compare without --sim"
            )
        rename[by_sha[sha]] = name
    rename.update({m.name: EXPERT for m in doc.models if m.kind == "expert"})
    return replace(
        doc,
        models=[replace(m, name=rename[m.name]) for m in doc.models if m.name in rename],
        results=[
            replace(
                r,
                model=rename[r.model],
                runs=[replace(run, model=rename[r.model]) for run in r.runs],
            )
            for r in doc.results
            if r.model in rename
        ],
    )

"""The simulator's output directory: ``active.json``, ``active.png``, ``tracks.json``,
``timing.json`` and one ROS 2 bag per run under ``bags/`` (see docs/sim.md).

``active.json`` holds only what the seeds decide (identical for identical settings and seeds);
wall-clock figures go to ``timing.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver.atomic import atomic_write_text
from ncp_driver.schemas import Active, ActiveResult, ActiveRun, SimModel, SimRoad
from ncp_driver.sim.figures import summarise
from ncp_driver.sim.loop import make_world
from ncp_driver.sim.settings import SimSettings
from ncp_driver.synth.vehicle import START_S

__all__ = [
    "ACTIVE_JSON",
    "ACTIVE_PNG",
    "BAGS_DIR",
    "TIMING_JSON",
    "TRACKS_JSON",
    "active_document",
    "bag_file",
    "bag_name",
    "road_entry",
    "write_plot",
]

ACTIVE_JSON = "active.json"
ACTIVE_PNG = "active.png"
TRACKS_JSON = "tracks.json"
TIMING_JSON = "timing.json"
BAGS_DIR = "bags"


def bag_name(model: str, noise_std: float | None, road_seed: int) -> str:
    """The bag name of one run: ``<model>_noise<std>_road<seed>`` (``expert_road<seed>``)."""
    noise = "" if noise_std is None else f"_noise{noise_std:g}"
    return f"{model}{noise}_road{road_seed}"


def bag_file(model: str, noise_std: float | None, road_seed: int, storage: str) -> str:
    """The bag of one run: ``<name>.mcap`` (one MCAP file) or the ``<name>`` sqlite3 folder."""
    name = bag_name(model, noise_std, road_seed)
    return f"{name}.mcap" if storage == "mcap" else name


def road_entry(settings: SimSettings, seed: int) -> dict[str, Any]:
    """A road of the set: its seed, the length driven, its tightest radius on that stretch."""
    world = make_world(settings, seed)
    road = world.road
    driven = (road.s >= START_S) & (road.s <= world.end_s)
    tightest = float(np.abs(road.curvature[driven]).max()) if driven.any() else 0.0
    return {
        "seed": seed,
        "length_m": settings.road_m,
        "min_radius_m": round(1.0 / tightest, 1) if tightest > 0 else None,
    }


def active_document(
    settings: dict[str, Any],
    drivers: list[dict[str, Any]],
    roads: list[dict[str, Any]],
    runs: list[dict[str, Any]],
) -> Active:
    """``active.json``: per model and noise level, the totals over the roads and each road."""
    groups: dict[tuple[str, float | None], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["model"], run["noise_std"]), []).append(run)
    results = [
        ActiveResult(
            model=model,
            noise_std=noise,
            **summarise(members),
            runs=[ActiveRun(**run) for run in members],
        )
        for (model, noise), members in groups.items()
    ]
    return Active(
        takeover_rule="ncp_driver.takeover.find_takeovers on the auto-mode flag",
        settings=settings,
        roads=[SimRoad(**road) for road in roads],
        models=[SimModel(**driver) for driver in drivers],
        results=results,
    )


def write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, allow_nan=False) + "\n")


def write_plot(doc: Active, path: Path) -> None:
    """Takeovers per km against the noise level, one line per model (the paper's figure)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    by_model: dict[str, list[ActiveResult]] = {}
    for entry in doc.results:
        by_model.setdefault(entry.model, []).append(entry)
    levels = sorted({e.noise_std for e in doc.results if e.noise_std is not None})
    for model, entries in by_model.items():
        rated = [e for e in entries if e.takeovers_per_km is not None]
        if not rated:
            continue
        if rated[0].noise_std is None:  # the expert: one figure, drawn across
            ax.axhline(rated[0].takeovers_per_km or 0.0, ls="--", color="grey", label=f"{model}")
            continue
        rated.sort(key=lambda e: e.noise_std or 0.0)
        x = [e.noise_std or 0.0 for e in rated]
        y = [e.takeovers_per_km or 0.0 for e in rated]
        lo = [(e.takeovers_per_km or 0.0) - (e.takeovers_per_km_95[0] or 0.0) for e in rated]
        hi = [(e.takeovers_per_km_95[1] or 0.0) - (e.takeovers_per_km or 0.0) for e in rated]
        ax.errorbar(x, y, yerr=[lo, hi], marker="o", capsize=3, label=model)
    if levels:
        ax.set_xticks(levels)
    ax.set_xlabel("input noise std (on the [0, 1] image)")
    ax.set_ylabel("takeovers per km (95 % Poisson interval)")
    km = {e.model: e.autonomous_km for e in doc.results}
    ax.set_title(
        f"closed loop, {len(doc.roads)} roads (~{max(km.values(), default=0):.1f} km auto)"
    )
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    from io import BytesIO

    buffer = BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    from ncp_driver.atomic import atomic_write_bytes

    atomic_write_bytes(path, buffer.getvalue())

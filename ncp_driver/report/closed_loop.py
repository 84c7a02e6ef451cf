"""The report's closed-loop section: what ``ncp-sim`` measured, from its output directory.

:func:`closed_loop_section` reads ``active.json``, ``active.png`` and ``tracks.json`` of an
``ncp-sim --out`` directory and returns a :class:`~ncp_driver.report.ReportSection`: one table
row per model and noise level (takeovers, autonomous km, takeovers per km with the 95 % Poisson
interval, lateral offset), the takeovers-per-km plot, and the GPS track of each run with its
takeovers marked. ``write_report(..., sim_dir=DIR)`` appends it to the page.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ncp_driver.audit.figures import new_figure
from ncp_driver.geo import to_local_m
from ncp_driver.report.errors import ReportError
from ncp_driver.schemas import Active, SchemaError

__all__ = ["closed_loop_section", "plot_tracks"]

ACTIVE_JSON, ACTIVE_PNG, TRACKS_JSON = "active.json", "active.png", "tracks.json"


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ReportError(
            f"{path}: cannot read the closed-loop results ({exc}); give an ncp-sim --out directory"
        ) from exc


def _label(model: str, noise: float | None) -> str:
    return model if noise is None else f"{model}, noise {noise:g}"


def _fmt(value: float | None, spec: str = ".3g") -> str:
    return "n/a" if value is None else format(value, spec)


def plot_tracks(tracks: list[dict[str, Any]], columns: int = 4) -> Figure:
    """The GPS track of each run (local metres), takeovers marked with red crosses."""
    n = max(1, len(tracks))
    cols = min(columns, n)
    rows = math.ceil(n / cols)
    fig = new_figure(3.2 * cols, 3.0 * rows)
    axes = fig.subplots(rows, cols, squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        if k >= len(tracks):
            ax.set_axis_off()
            continue
        track = tracks[k]
        lat = np.asarray(track["latitude"], dtype=np.float64)
        lon = np.asarray(track["longitude"], dtype=np.float64)
        if lat.size == 0:
            ax.set_axis_off()
            continue
        origin = (float(lat[0]), float(lon[0]))
        x, y = to_local_m(lat, lon, origin)
        ax.plot(x, y, color="#2271b1", lw=1.2)
        tx, ty = to_local_m(
            np.asarray(track["takeover_latitude"], dtype=np.float64),
            np.asarray(track["takeover_longitude"], dtype=np.float64),
            origin,
        )
        ax.plot(tx, ty, "x", color="#d63638", ms=7, mew=2)
        ax.plot(x[:1], y[:1], "o", color="#1d2327", ms=4)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_title(
            f"{_label(track['model'], track['noise_std'])}, road {track['road_seed']}: "
            f"{tx.size} takeover(s)",
            fontsize=8,
        )
        ax.tick_params(labelsize=6)
        ax.set_xlabel("east, m", fontsize=6)
        ax.set_ylabel("north, m", fontsize=6)
    return fig


def closed_loop_section(sim_dir: Path | str) -> Any:
    """The closed-loop section of the report, from an ``ncp-sim`` output directory."""
    from ncp_driver.report.page import (  # the page imports this module's caller
        ReportFigure,
        ReportSection,
    )

    directory = Path(sim_dir)
    try:
        doc = Active.read(directory / ACTIVE_JSON)
    except SchemaError as exc:
        raise ReportError(
            f"cannot read the closed-loop results: {exc}; give an ncp-sim --out directory"
        ) from exc
    tracks = _load(directory / TRACKS_JSON).get("tracks", [])
    roads = doc.roads
    table: dict[str, str] = {}
    for entry in doc.results:
        lo, hi = entry.takeovers_per_km_95
        table[_label(entry.model, entry.noise_std)] = (
            f"{entry.takeovers} takeovers in {entry.autonomous_km:.2f} km autonomous: "
            f"{_fmt(entry.takeovers_per_km)} per km (95 % {_fmt(lo)}-{_fmt(hi)}); "
            f"mean |offset| {_fmt(entry.lateral_offset_mean_m)} m, "
            f"max {_fmt(entry.lateral_offset_max_m)} m"
        )
    models = ", ".join(
        f"{m.name} ({'sha256 ' + m.sha256[:12] if m.sha256 else 'reference driver'})"
        for m in doc.models
    )
    settings = doc.settings
    paragraphs = [
        f"ncp-sim: each model drove a simulated car through the on-car pipeline on {len(roads)} "
        f"procedural road(s) (seeds {', '.join(str(r.seed) for r in roads)}, "
        f"{_fmt(settings.get('road_m'), 'g')} m each); a virtual safety driver took over when "
        "the car left its lane. Takeovers are counted from the auto-mode flag by the takeover "
        "rule, as on a real drive.",
        f"Models: {models}.",
        "A simulated road is not a real one: these figures rank models and show how they fail; "
        "they do not say how a model drives a real car (docs/sim.md).",
    ]
    figures = []
    plot = directory / ACTIVE_PNG
    if plot.is_file():
        figures.append(
            ReportFigure(
                "Takeovers per km against input noise, one line per model",
                plot,
                "From ncp-sim's active.json: each model driving the simulated car itself, "
                "with its 95 % interval. Fewer takeovers per km is better; a flat line means "
                "the model copes with the noise.",
            )
        )
    if tracks:
        figures.append(
            ReportFigure(
                "GPS track of each run; takeovers marked",
                plot_tracks(tracks),
                "Where each simulated run went (tracks.json), with the points where the virtual "
                "safety driver took over: places where the model's own commands left the lane.",
            )
        )
    return ReportSection("Closed loop (ncp-sim)", paragraphs, table, figures)

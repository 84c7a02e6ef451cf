"""One self-contained HTML page per replay, in the order a reviewer reads it.

1. *The recorded drive*: what happened (takeovers, lateral discomfort, the GPS track): the
   recording's own signals, measured by the bag tools.
2. *The model in replay*: what the model would have done on the recorded frames (open loop: its
   commands never steered the car): prediction against the human, agreement figures.
3. *Robustness to input noise*: the replay's metrics per noise level, saliency SSIM per level.
4. *Closed loop*: the simulator's section (``closed_loop``); a placeholder until one is given.
5. *Inside the network*: neuron activity and the analyses (saliency, PCA, time constants, ...).

Every figure has a caption: what it shows, where it comes from, how to read it. PNG plots are
embedded as base64 data URIs; the page loads nothing else (no scripts, fonts or style sheets).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import numpy as np
from matplotlib.figure import Figure

from ncp_driver.audit.errors import AuditError
from ncp_driver.audit.neurons import neuron_layout, plot_neuron_activity
from ncp_driver.audit.output import atomic_write_text, figure_png
from ncp_driver.audit.replay import (
    DISCOMFORT_FILE,
    NEURONS_FILE,
    TAKEOVERS_FILE,
    Replay,
    load_replay,
)
from ncp_driver.errors import NcpDriverError
from ncp_driver.replay.subgraphs import load_model, read_contract
from ncp_driver.report.errors import ReportError
from ncp_driver.report.plots import plot_curvature, plot_noise_metrics, plot_track
from ncp_driver.report.summary import (
    KeyFigureGroup,
    TakeoverEvent,
    model_figures,
    noise_rows,
    recording_figures,
    takeover_events,
)

__all__ = ["FigureSource", "ReportFigure", "ReportSection", "write_report"]

FigureSource = Union[Figure, bytes, Path]  # noqa: UP007 (a runtime alias, Python 3.10)
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class ReportFigure:
    """A figure with its title and a caption (what it shows, where from, how to read it)."""

    title: str
    figure: FigureSource
    caption: str = ""


@dataclass(frozen=True)
class ReportSection:
    """A section: paragraphs, a key/value table and figures (title -> figure, or ReportFigure)."""

    title: str
    paragraphs: Sequence[str] = ()
    table: Mapping[str, str] = field(default_factory=dict)
    figures: Mapping[str, FigureSource] | Sequence[ReportFigure] = field(default_factory=dict)

    def report_figures(self) -> list[ReportFigure]:
        if isinstance(self.figures, Mapping):
            return [ReportFigure(t, f) for t, f in self.figures.items()]
        return list(self.figures)


# The pages' one style sheet (the report, ncp-eval's and ncp-compare's pages).
PAGE_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2327;
background:#f6f7f7;line-height:1.45}
header{background:#1d2327;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:1.5rem}
header p{margin:0;color:#c3c4c7;font-size:.9rem}
main{padding:12px 28px 40px;max-width:1200px}
.part{font-size:1.3rem;margin:28px 0 4px;padding-bottom:4px;border-bottom:2px solid #1d2327}
.part small{display:block;font-size:.85rem;font-weight:400;color:#50575e}
section{background:#fff;border:1px solid #dcdcde;border-radius:6px;margin:14px 0;padding:12px 18px}
h2{font-size:1.1rem;margin:4px 0 8px}
h3{font-size:.95rem;margin:12px 0 6px}
.lead{margin:0 0 10px;color:#2c3338;font-size:.92rem}
.groups{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:12px}
.group{border:1px solid #e0e0e0;border-radius:6px;padding:8px 12px;background:#fbfbfb}
.group h3{margin:2px 0 6px}
.group p{margin:6px 0 0;font-size:.8rem;color:#50575e}
.group p.from{font-style:italic}
dl{display:grid;grid-template-columns:1fr auto;gap:2px 12px;margin:0}
dt{color:#50575e;font-size:.85rem}
dd{margin:0;font-weight:600;font-variant-numeric:tabular-nums;text-align:right;white-space:nowrap}
code,.hash{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em}
.note{background:#fcf9e8;border-left:4px solid #dba617;padding:6px 10px;margin:8px 0;
font-size:.88rem}
figure{margin:12px 0}
figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85rem;color:#3c434a;max-width:900px}
figcaption b{color:#1d2327}
table{border-collapse:collapse;font-size:.85rem;font-variant-numeric:tabular-nums}
td,th{border-bottom:1px solid #e0e0e0;padding:3px 10px;text-align:left}
td.num,th.num{text-align:right}
footer{color:#8c8f94;font-size:.8rem;padding:0 28px 20px}
"""


def _png(source: FigureSource) -> bytes:
    if isinstance(source, Figure):
        return figure_png(source)
    if isinstance(source, bytes):
        data = source
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise ReportError(f"cannot read figure {source}: {exc}") from exc
    if not data.startswith(_PNG_MAGIC):
        raise ReportError("figures must be matplotlib figures or PNG images")
    return data


def _img(title: str, png: bytes, caption: str = "") -> str:
    data = base64.b64encode(png).decode("ascii")
    text = f"<b>{html.escape(title)}.</b>" + (f" {html.escape(caption)}" if caption else "")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(title)}">'
        f"<figcaption>{text}</figcaption></figure>"
    )


def _figure(item: ReportFigure) -> str:
    return _img(item.title, _png(item.figure), item.caption)


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _lead(text: str) -> str:
    return f'<p class="lead">{html.escape(text)}</p>'


def _groups(groups: Sequence[KeyFigureGroup]) -> str:
    parts = []
    for group in groups:
        rows = "".join(
            f"<dt>{html.escape(f.label)}</dt><dd>{html.escape(f.value)}</dd>" for f in group.figures
        )
        body = f"<dl>{rows}</dl>" if rows else ""
        if group.note:
            body += f"<p>{html.escape(group.note)}</p>"
        if group.source:
            body += f'<p class="from">From {html.escape(group.source)}.</p>'
        parts.append(f'<div class="group"><h3>{html.escape(group.title)}</h3>{body}</div>')
    return f'<div class="groups">{"".join(parts)}</div>'


def _takeover_table(replay: Replay, events: Sequence[TakeoverEvent]) -> str:
    if not events:
        return "<p>No takeovers in this drive.</p>"
    t0 = float(replay.stamp[0]) if replay.frames else 0.0

    def cell(value: float, spec: str) -> str:
        return f"{value:{spec}}" if np.isfinite(value) else "n/a"

    rows = "".join(
        f'<tr><td class="num">{k + 1}</td><td class="num">{cell(e.stamp - t0, ".1f")}</td>'
        f'<td class="num">{cell(e.latitude, ".6f")}</td>'
        f'<td class="num">{cell(e.longitude, ".6f")}</td>'
        f'<td class="num">{cell(e.speed, ".1f")}</td></tr>'
        for k, e in enumerate(events)
    )
    return (
        '<table><thead><tr><th class="num">#</th><th class="num">time (s)</th>'
        '<th class="num">latitude</th><th class="num">longitude</th>'
        f'<th class="num">speed (m/s)</th></tr></thead><tbody>{rows}</tbody></table>'
    )


def _section(title: str, body: str, anchor: str = "") -> str:
    ident = f' id="{anchor}"' if anchor else ""
    return f"<section{ident}><h2>{html.escape(title)}</h2>{body}</section>"


def _part(title: str, subtitle: str) -> str:
    return f'<h2 class="part">{html.escape(title)}<small>{html.escape(subtitle)}</small></h2>'


def _layout_wiring(replay: Replay) -> tuple[dict[str, object] | None, str, str | None]:
    """(wiring, note, kind) from the replay's model, when it can be read."""
    path = replay.model_path
    if path is None or not path.is_file():
        return None, "The replay's model file is not available: neurons are shown unlabelled.", None
    try:
        contract = read_contract(load_model(path), source=str(path))
    except NcpDriverError as exc:
        return None, f"The model's metadata cannot be read ({exc}): neurons unlabelled.", None
    return contract.wiring, "", contract.kind


def _table(rows: Mapping[str, str]) -> str:
    body = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows.items()
    )
    return f"<table><tbody>{body}</tbody></table>"


def _recorded_part(replay: Replay, events: Sequence[TakeoverEvent]) -> str:
    body = [
        _lead(
            "What happened on the recorded drive: the recording's own auto-mode flag, GPS, odometry "
            "and IMU, measured by the bag tools. The model plays no part in these numbers."
        )
    ]
    body.append(_groups(recording_figures(replay)))
    if replay.has_gps:
        body.append(
            _img(
                "GPS track by driving mode",
                figure_png(plot_track(replay, events)),
                "The recorded GPS positions, green where the car drove itself (the recorded "
                "flag) and grey where the human drove; red crosses mark the takeovers. Axes in "
                "metres east and north of the track's centre.",
            )
        )
    else:
        body.append(_note("No GPS positions in this replay: the track figure is left out."))
    plot = replay.directory / "discomfort.png"
    if replay.discomfort is not None and replay.discomfort.plot:
        given = Path(replay.discomfort.plot)
        plot = given if given.is_file() else replay.directory / given.name
    if plot.is_file():
        scope = replay.discomfort.scope if replay.discomfort is not None else "the drive"
        body.append(
            _img(
                "Lateral acceleration and jerk of the recorded drive",
                _png(plot),
                f"From the recording's motion sources (ncp-bag discomfort, {scope}); dashed "
                "lines are the nuPlan comfort limits. Time in seconds from the start.",
            )
        )
    body.append("<h3>Takeovers</h3>" + _takeover_table(replay, events))
    return _section("The recorded drive", "".join(body), "recording")


def _model_part(replay: Replay, kind: str | None, events: Sequence[TakeoverEvent]) -> str:
    limited = sum(1 for active in replay.limits_active if active)
    body = [
        _lead(
            "What the model would have done: the recorded camera frames replayed through the car's "
            "own pipeline (ncp-replay). This is open loop: the model's commands never steered the "
            "car, so they are compared with what the human did at the same moment."
        )
    ]
    body.append(_groups(model_figures(replay, model_kind=kind)))
    body.append(
        _img(
            "The model's curvature against the human's",
            figure_png(plot_curvature(replay, events)),
            "Black: the human's curvature from the recorded steering. Blue: the model's output. "
            "Orange dots: what the pipeline would command after its limits (every fifth frame; "
            f"they sit on the blue line wherever no limit acted: limits acted on {limited} of "
            f"{replay.frames} frames). Green background: autonomous in the recording; red "
            "dashed lines: takeovers. In manual stretches the state is reset on every frame "
            "(as on the car), hence the flat steps there. Positive curvature is a left turn.",
        )
    )
    return _section("The model in replay", "".join(body), "model")


def _robustness_part(
    replay: Replay, figures: Sequence[ReportFigure], table: Mapping[str, str]
) -> str:
    rows = noise_rows(replay)
    body = [
        _lead(
            "The same replay with Gaussian noise added to every camera frame (standard deviation on "
            "the [0, 1] image, seeded): how much the model's agreement with the human and its "
            "attention (saliency) change. Robust models change little."
        )
    ]
    if rows:

        def fmt(value: float | None, spec: str) -> str:
            return "n/a" if value is None else format(value, spec)

        clean = rows[0][1]
        cells = "".join(
            f'<tr><td class="num">{html.escape(level)}</td>'
            f'<td class="num">{fmt(auto.mae, ".4f")}</td>'
            f'<td class="num">{fmt(auto.corr, ".3f")}</td>'
            f'<td class="num">{fmt(all_.mae, ".4f")}</td>'
            f'<td class="num">{fmt(all_.corr, ".3f")}</td></tr>'
            for level, auto, all_ in rows
        )
        body.append(
            '<table><thead><tr><th class="num">noise std</th>'
            '<th class="num">MAE autonomous (1/m)</th><th class="num">corr autonomous</th>'
            '<th class="num">MAE all (1/m)</th><th class="num">corr all</th></tr></thead>'
            f"<tbody>{cells}</tbody></table>"
        )
        body.append(
            _img(
                "Agreement with the human under input noise",
                figure_png(plot_noise_metrics(rows)),
                "MAE (left) and correlation (right) of the model's output with the human's "
                "curvature at each noise level, autonomous frames and all frames "
                f"(metrics.json, noise seed {replay.metrics.noise_seed}).",
            )
        )
        better = [
            level
            for level, auto, _ in rows[1:]
            if auto.corr is not None and clean.corr is not None and auto.corr > clean.corr + 0.01
        ]
        if better:
            body.append(
                _note(
                    f"The autonomous correlation is higher with noise {', '.join(better)} than "
                    "without. That does not make the model better with noise: correlation "
                    "ignores a constant offset and, on a short drive, rests on a few autonomous "
                    "stretches, so one stretch where the noise-free output swings away from "
                    "the human lowers it. Read the MAE beside it, and compare several drives "
                    "(docs/replay.md, 'Noise levels')."
                )
            )
    else:
        body.append(
            _note(
                "No noise levels in this replay: run ncp-replay with --noise-std 0.1 0.2 0.25 "
                "0.3 (the paper's levels) to fill this section."
            )
        )
    if table:
        body.append("<h3>Saliency under noise (SSIM with the noise-free maps)</h3>" + _table(table))
    body += [_figure(f) for f in figures]
    return _section("Robustness to input noise", "".join(body), "robustness")


def _closed_loop_part(section: ReportSection | None) -> str:
    if section is None:
        return _section(
            "Closed loop (simulator)",
            _note(
                "Not run. The replay above is open loop: it cannot show where the model's own "
                "commands would have taken the car. The closed-loop simulator (ncp-sim) adds "
                "that here: the model driving a simulated car, with its takeovers and comfort."
            ),
            "closed-loop",
        )
    return _custom_section(section, "closed-loop")


def _custom_section(extra: ReportSection, anchor: str = "") -> str:
    parts = [f"<p>{html.escape(p)}</p>" for p in extra.paragraphs]
    if extra.table:
        parts.append(_table(extra.table))
    parts += [_figure(f) for f in extra.report_figures()]
    return _section(extra.title, "".join(parts), anchor)


def _network_part(
    replay: Replay,
    wiring: dict[str, object] | None,
    wiring_note: str,
    figures: Sequence[ReportFigure],
) -> str:
    body = [
        _lead(
            "Inside the network during the replay: what its neurons did and what it looked at. "
            "Computed from the model file and the replay's neurons.csv / sensory.csv."
        )
    ]
    if replay.neurons is not None:
        trace = replay.neurons
        try:
            layout = neuron_layout(wiring, trace.width)
        except AuditError as exc:
            layout, wiring_note = neuron_layout(None, trace.width), str(exc)
        if wiring_note:
            body.append(_note(wiring_note))
        body.append(
            _img(
                "Neuron activity over time",
                figure_png(
                    plot_neuron_activity(trace, layout, autonomous=replay.mode_at(trace.stamp))
                ),
                "Top: every neuron's state (rows grouped motor, command, inter; colour: value). "
                "Bottom: the most active neurons as lines. Green background: autonomous. The "
                "NCP's few neurons are meant to be readable: look for neurons that follow the "
                "road's curvature.",
            )
        )
    else:
        body.append(_note(f"No {NEURONS_FILE} in this replay."))
    body += [_figure(f) for f in figures]
    return _section("Inside the network", "".join(body), "network")


def write_report(
    replay_dir: Path | str,
    out_html: Path | str,
    *,
    title: str = "NCP drive audit",
    figures: Mapping[str, FigureSource] | Sequence[ReportFigure] | None = None,
    sections: Sequence[ReportSection] = (),
    replay: Replay | None = None,
    robustness: Sequence[ReportFigure] = (),
    robustness_table: Mapping[str, str] | None = None,
    closed_loop: ReportSection | None = None,
    sim_dir: Path | str | None = None,
) -> Path:
    """Write the HTML report of a replay directory; returns the page's path.

    ``figures`` (the analyses: saliency overlays, PCA, time constants, ...) go into "Inside the
    network"; ``robustness`` figures and ``robustness_table`` (saliency SSIM per noise level)
    into the robustness section; the closed-loop section is ``closed_loop``, or the one of
    ``sim_dir`` (an ``ncp-sim --out`` directory, :mod:`ncp_driver.report.closed_loop`);
    ``sections`` are appended at the end.
    """
    if sim_dir is not None and closed_loop is None:
        from ncp_driver.report.closed_loop import closed_loop_section

        closed_loop = closed_loop_section(sim_dir)
    out = Path(out_html)
    if out.is_dir():
        raise ReportError(f"{out} is a directory: give the report's file name")
    # The caller's figures first (rendered once): a bad one fails before any plotting.
    analyses = [
        ReportFigure(f.title, _png(f.figure), f.caption)
        for f in ReportSection("", figures=figures or {}).report_figures()
    ]
    noise_figures = [ReportFigure(f.title, _png(f.figure), f.caption) for f in robustness]
    replay = replay or load_replay(replay_dir)
    notes: list[str] = []
    if not replay.has_human:
        notes.append("No human curvature label in this replay: only the model's curve is drawn.")
    if replay.takeovers is None:
        notes.append(f"No {TAKEOVERS_FILE}: takeovers counted from output.csv's recorded flag.")
    if replay.discomfort is None:
        notes.append(f"No {DISCOMFORT_FILE}: the recorded drive's lateral discomfort is missing.")

    wiring, wiring_note, kind = _layout_wiring(replay)
    events = takeover_events(replay)
    body = [
        _part("What happened", "measured on the recording itself"),
        _recorded_part(replay, events),
        _part("What the model would have done", "the recorded frames through the car's pipeline"),
        _model_part(replay, kind, events),
        _robustness_part(replay, noise_figures, robustness_table or {}),
        _closed_loop_part(closed_loop),
        _part("How the model works", "its neurons and attention on this drive"),
        _network_part(replay, wiring, wiring_note, analyses),
    ]
    body += [_custom_section(extra) for extra in sections]

    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    drive = ", ".join(Path(s).name for s in replay.metrics.sources) or replay.directory.name
    model = Path(replay.metrics.model).name
    subtitle = (
        f"recording: {drive} · {replay.frames} frames replayed · model {model} · "
        f"generated {generated}"
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{html.escape(title)}</title><style>{PAGE_CSS}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header><main>"
        + "".join(_note(n) for n in notes)
        + "".join(body)
        + "</main><footer>ncp_driver audit report · replay directory "
        + html.escape(str(replay.directory))
        + "</footer></body></html>\n"
    )
    try:
        return atomic_write_text(out, page)
    except AuditError as exc:
        raise ReportError(str(exc)) from exc

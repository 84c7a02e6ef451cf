"""One self-contained HTML page per replay: key figures, plots, notes on what is missing.

PNG plots are embedded as base64 data URIs; the page loads nothing else (no scripts, no fonts,
no external style sheets), so it can be mailed, archived, or opened from a USB stick.
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
from ncp_driver.report.plots import plot_curvature, plot_track
from ncp_driver.report.summary import KeyFigureGroup, TakeoverEvent, key_figures, takeover_events

__all__ = ["FigureSource", "ReportSection", "write_report"]

FigureSource = Union[Figure, bytes, Path]  # noqa: UP007 (a runtime alias, Python 3.10)
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class ReportSection:
    """An extra section: paragraphs, a key/value table and figures (caption -> figure)."""

    title: str
    paragraphs: Sequence[str] = ()
    table: Mapping[str, str] = field(default_factory=dict)
    figures: Mapping[str, FigureSource] = field(default_factory=dict)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2327;
background:#f6f7f7}
header{background:#1d2327;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:1.5rem}
header p{margin:0;color:#c3c4c7;font-size:.9rem}
main{padding:12px 28px 40px;max-width:1200px}
section{background:#fff;border:1px solid #dcdcde;border-radius:6px;margin:16px 0;padding:12px 18px}
h2{font-size:1.15rem;margin:4px 0 10px}
.groups{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:12px}
.group{border:1px solid #e0e0e0;border-radius:6px;padding:8px 12px;background:#fbfbfb}
.group h3{font-size:.95rem;margin:2px 0 6px}
dl{display:grid;grid-template-columns:auto auto;gap:2px 12px;margin:0}
dt{color:#50575e;font-size:.85rem}
dd{margin:0;font-weight:600;font-variant-numeric:tabular-nums;text-align:right;
overflow-wrap:anywhere}
dd small{display:block;font-weight:400;color:#8c8f94;font-size:.7rem}
.note{background:#fcf9e8;border-left:4px solid #dba617;padding:6px 10px;margin:8px 0;
font-size:.9rem}
figure{margin:10px 0}
figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85rem;color:#50575e}
table{border-collapse:collapse;font-size:.85rem}
td,th{border-bottom:1px solid #e0e0e0;padding:3px 10px;text-align:left}
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


def _img(caption: str, source: FigureSource) -> str:
    data = base64.b64encode(_png(source)).decode("ascii")
    text = html.escape(caption)
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{text}">'
        f"<figcaption>{text}</figcaption></figure>"
    )


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _groups(groups: Sequence[KeyFigureGroup]) -> str:
    parts = []
    for group in groups:
        rows = "".join(
            f"<dt>{html.escape(f.label)}</dt><dd>{html.escape(f.value)}"
            + (f"<small>{html.escape(f.source)}</small>" if f.source else "")
            + "</dd>"
            for f in group.figures
        )
        note = _note(group.note) if group.note else ""
        parts.append(
            f'<div class="group"><h3>{html.escape(group.title)}</h3><dl>{rows}</dl>{note}</div>'
        )
    return f'<div class="groups">{"".join(parts)}</div>'


def _takeover_table(replay: Replay, events: Sequence[TakeoverEvent]) -> str:
    if not events:
        return "<p>No takeovers in this drive.</p>"
    t0 = float(replay.stamp[0]) if replay.frames else 0.0

    def cell(value: float, spec: str) -> str:
        return f"{value:{spec}}" if np.isfinite(value) else "n/a"

    rows = "".join(
        f"<tr><td>{k + 1}</td><td>{cell(e.stamp - t0, '.1f')}</td>"
        f"<td>{cell(e.latitude, '.6f')}</td><td>{cell(e.longitude, '.6f')}</td>"
        f"<td>{cell(e.speed, '.1f')}</td></tr>"
        for k, e in enumerate(events)
    )
    return (
        "<table><thead><tr><th>#</th><th>time (s)</th><th>latitude</th><th>longitude</th>"
        f"<th>speed (m/s)</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _section(title: str, body: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2>{body}</section>"


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


def write_report(
    replay_dir: Path | str,
    out_html: Path | str,
    *,
    title: str = "NCP drive audit",
    figures: Mapping[str, FigureSource] | None = None,
    sections: Sequence[ReportSection] = (),
    replay: Replay | None = None,
    sim_dir: Path | str | None = None,
) -> Path:
    """Write the HTML report of a replay directory; returns the page's path.

    ``figures`` (caption -> matplotlib figure, PNG bytes or PNG file) go into an "Analyses"
    section (saliency overlays, PCA, Lipschitz ...); ``sections`` are appended after it;
    ``sim_dir`` (an ``ncp-sim --out`` directory) adds the closed-loop section last.
    """
    if sim_dir is not None:
        from ncp_driver.report.closed_loop import closed_loop_section

        sections = [*sections, closed_loop_section(sim_dir)]
    out = Path(out_html)
    if out.is_dir():
        raise ReportError(f"{out} is a directory: give the report's file name")
    # The caller's figures first: a bad one fails before any plotting.
    given = {caption: _png(source) for caption, source in (figures or {}).items()}
    extra_pngs = [{c: _png(f) for c, f in extra.figures.items()} for extra in sections]
    replay = replay or load_replay(replay_dir)
    notes: list[str] = []
    if not replay.has_gps:
        notes.append("No GPS positions in this replay: the track figure is left out.")
    if not replay.has_human:
        notes.append("No human curvature label in this replay: only the model's curve is drawn.")
    if replay.takeovers is None:
        notes.append(f"No {TAKEOVERS_FILE}: takeovers counted from output.csv.")
    if replay.discomfort is None:
        notes.append(f"No {DISCOMFORT_FILE}: lateral discomfort estimated or left out.")

    wiring, wiring_note, kind = _layout_wiring(replay)
    events = takeover_events(replay)
    body = [_section("Key figures", _groups(key_figures(replay, model_kind=kind)))]

    drive = [
        _img(
            "Curvature: model output, commanded and human; autonomous shaded; takeovers dashed",
            plot_curvature(replay, events),
        )
    ]
    if replay.has_gps:
        drive.append(
            _img("GPS track by driving mode; takeovers marked", plot_track(replay, events))
        )
    else:
        drive.append(_note("No GPS positions: no track to draw."))
    drive.append("<h3>Takeovers</h3>" + _takeover_table(replay, events))
    body.append(_section("The drive", "".join(drive)))

    if replay.neurons is not None:
        trace = replay.neurons
        try:
            layout = neuron_layout(wiring, trace.width)
        except AuditError as exc:
            layout, wiring_note = neuron_layout(None, trace.width), str(exc)
        inside = [_note(wiring_note)] if wiring_note else []
        inside.append(
            _img(
                "Neuron activity over time (rows: motor, command, inter) and the most active",
                plot_neuron_activity(trace, layout, autonomous=replay.mode_at(trace.stamp)),
            )
        )
        body.append(_section("Inside the network", "".join(inside)))
    else:
        body.append(_section("Inside the network", _note(f"No {NEURONS_FILE} in this replay.")))

    if given:
        body.append(_section("Analyses", "".join(_img(c, f) for c, f in given.items())))
    for extra, pngs in zip(sections, extra_pngs, strict=True):
        parts = [f"<p>{html.escape(p)}</p>" for p in extra.paragraphs]
        if extra.table:
            rows = "".join(
                f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                for k, v in extra.table.items()
            )
            parts.append(f"<table><tbody>{rows}</tbody></table>")
        parts += [_img(c, f) for c, f in pngs.items()]
        body.append(_section(extra.title, "".join(parts)))

    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = f"replay {replay.directory.name} · {replay.frames} frames · generated {generated}"
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header><main>"
        + "".join(_note(n) for n in notes)
        + "".join(body)
        + "</main><footer>ncp_driver audit report · "
        + html.escape(str(replay.directory))
        + "</footer></body></html>\n"
    )
    try:
        return atomic_write_text(out, page)
    except AuditError as exc:
        raise ReportError(str(exc)) from exc

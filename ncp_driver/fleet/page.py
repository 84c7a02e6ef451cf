"""The fleet page (``report.html``): the verdict, the fleet table, the per-tag breakdown and the
worst divergences with their camera frame and a plot. Built from ``summary.json`` alone; images
are referenced beside the page (``divergences/``)."""

from __future__ import annotations

import html
from typing import Any

from ncp_driver.report.page import PAGE_CSS

__all__ = ["render_page"]

_EXTRA_CSS = """
.pass{border-left:6px solid #00a32a}.fail{border-left:6px solid #d63638}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td{color:#8c8f94}.worse{color:#b32d2e;font-weight:600}.better{color:#008a20}
.div{display:grid;grid-template-columns:330px 1fr;gap:12px;border-top:1px solid #eee;padding:8px 0}
"""


def _f(value: Any, spec: str = ".4g") -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return format(value, spec)
    return html.escape(str(value))


def _pct(value: Any) -> str:
    if value is None:
        return "-"
    cls = "worse" if value > 0 else "better" if value < 0 else ""
    return f'<span class="{cls}">{value * 100:+.1f} %</span>'


def _metric(doc: dict[str, Any] | None, role: str, mode: str, key: str) -> Any:
    if not doc or not doc.get(role):
        return None
    return doc[role][mode][key]


def _fleet_table(summary: dict[str, Any]) -> str:
    has_ref = "reference" in summary["models"]
    mode = summary["gate"]["gate_mode"]
    head = ["drive", "tags", "status", "frames", f"MAE cand ({mode})"]
    if has_ref:
        head += [f"MAE ref ({mode})", "change", "|diff| p99", "|diff| max", "share over", "neurons"]
    head += ["corr cand", "takeovers/km", "a_lat rms"]
    rows = []
    for d in summary["drives"]:
        tags = ", ".join(f"{k}={v}" for k, v in d.get("tags", {}).items())
        if d["status"] == "failed":
            rows.append(
                f'<tr class="failed"><td>{_f(d["name"])}</td><td>{_f(tags)}</td>'
                f'<td>failed</td><td colspan="{len(head) - 3}">{_f(d["reason"])}</td></tr>'
            )
            continue
        ctx = d.get("context") or {}
        comfort = ctx.get("discomfort") or {}
        link = (d.get("replays") or {}).get("candidate")
        name = _f(d["name"])
        cells = [
            f'<a href="{html.escape(link)}/prediction.png">{name}</a>' if link else name,
            _f(tags),
            _f(d["status"]) + (f"<br><small>{_f(d['reason'])}</small>" if d.get("reason") else ""),
            _f(d["frames"]),
            _f(_metric(d, "candidate", mode, "mae")),
        ]
        if has_ref:
            diff = d.get("difference") or {}
            nd = d.get("neuron_difference") or {}
            cells += [
                _f(_metric(d, "reference", mode, "mae")),
                _pct((d.get("mae_change") or {}).get(mode)),
                _f(diff.get("p99")),
                _f(diff.get("max")),
                _f(diff.get("share_over"), ".1%") if diff.get("share_over") is not None else "-",
                _f(nd.get("mean")),
            ]
        cells += [
            _f(_metric(d, "candidate", "all", "corr"), ".3f"),
            _f(ctx.get("takeovers_per_km"), ".3g"),
            _f(comfort.get("a_lat_rms"), ".3g"),
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return f"<table><tr>{header}</tr>{''.join(rows)}</table>"


def _agreement_table(doc: dict[str, Any], roles: list[str]) -> str:
    rows = []
    for role in roles:
        for mode in ("autonomous", "manual", "all"):
            m = doc[role][mode]
            rows.append(
                f"<tr><td>{role}</td><td>{mode}</td><td>{_f(m['frames'])}</td>"
                f"<td>{_f(m['mae'])}</td><td>{_f(m['rmse'])}</td><td>{_f(m['corr'], '.3f')}</td></tr>"
            )
    return (
        "<table><tr><th>model</th><th>mode</th><th>frames</th><th>MAE 1/m</th><th>RMSE 1/m</th>"
        f"<th>corr</th></tr>{''.join(rows)}</table>"
    )


def _tags_table(summary: dict[str, Any]) -> str:
    if not summary["tags"]:
        return "<p>No drive has tags (a manifest gives them: see docs/eval.md).</p>"
    has_ref = "reference" in summary["models"]
    mode = summary["gate"]["gate_mode"]
    rows = []
    for key, values in summary["tags"].items():
        for value, doc in values.items():
            cells = [key, value, str(doc["drives"]), str(doc["frames"]),
                     _f(_metric(doc, "candidate", mode, "mae"))]  # fmt: skip
            if has_ref:
                cells += [
                    _f(_metric(doc, "reference", mode, "mae")),
                    _pct((doc.get("mae_change") or {}).get(mode)),
                    _f((doc.get("difference") or {}).get("p99")),
                ]
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = ["tag", "value", "drives", "frames", f"MAE cand ({mode})"]
    if has_ref:
        head += [f"MAE ref ({mode})", "change", "|diff| p99"]
    header = "".join(f"<th>{h}</th>" for h in head)
    return f"<table><tr>{header}</tr>{''.join(rows)}</table>"


def _divergences(summary: dict[str, Any]) -> str:
    items = summary["worst_divergences"]
    if not items:
        return "<p>No divergence: the models agree on every frame (or there is no reference).</p>"
    parts = []
    for n, d in enumerate(items, start=1):
        thumb = (
            f'<img src="{html.escape(d["thumbnail"])}" width="320" alt="camera frame at the peak">'
            if d.get("thumbnail")
            else "<p>(no camera frame)</p>"
        )
        plot = (
            f'<img src="{html.escape(d["plot"])}" alt="curvature around it">'
            if d.get("plot")
            else ""
        )
        parts.append(
            f'<div class="div"><div>{thumb}</div><div><b>#{n} {_f(d["drive"])}</b> '
            f"({_f(d['bag'])})<br>{d['start_s']:.2f} s to {d['end_s']:.2f} s since the bag's "
            f"start, peak at {d['peak_s']:.2f} s (record time {d['peak_bag_time']:.3f}): "
            f"|difference| {_f(d['peak_difference'])} 1/m; candidate {_f(d['candidate'])}, "
            f"reference {_f(d['reference'])}, human {_f(d['human'])} 1/m; "
            f"{'autonomous' if d['autonomous'] else 'manual'}<br>{plot}</div></div>"
        )
    return "".join(parts)


def render_page(summary: dict[str, Any]) -> str:
    """The whole page as one HTML string."""
    v = summary["verdict"]
    models = summary["models"]
    roles = list(models)
    overall = summary["overall"]
    cls = "pass" if v["passed"] else "fail"
    checks = "".join(
        f"<tr><td>{_f(c['check'])}</td><td>{_f(c['value'])}</td><td>{_f(c['limit'])}</td>"
        f"<td>{'skipped' if c['passed'] is None else 'pass' if c['passed'] else 'FAIL'}</td>"
        f"<td>{_f(c['detail'])}</td></tr>"
        for c in v["checks"]
    )
    reasons = "".join(f"<li>{_f(r)}</li>" for r in v["reasons"])
    model_rows = "".join(
        f"<tr><td>{role}</td><td>{_f(m['path'])}</td><td>{_f(m['kind'])}</td>"
        f"<td>{_f(m['neurons'])}</td><td><code>{m['sha256'][:16]}</code></td></tr>"
        for role, m in models.items()
    )
    diff = overall.get("difference") or {}
    nd = overall.get("neuron_difference") or {}
    ctx = overall.get("context") or {}
    sections = [
        f'<section class="{cls}"><h2>Verdict: {_f(v["result"])} (exit {v["exit_code"]})</h2>'
        f"<p>{v['drives_evaluated']} drive(s) evaluated, {v['drives_failed']} could not be, "
        f"{v['drives_partial']} from damaged input.</p><ul>{reasons}</ul>"
        f"<table><tr><th>check</th><th>value</th><th>limit</th><th>result</th><th>what</th></tr>"
        f"{checks}</table></section>",
        f"<section><h2>Models</h2><table><tr><th>role</th><th>file</th><th>kind</th>"
        f"<th>neurons</th><th>sha256</th></tr>{model_rows}</table>"
        f"<p>Neuron activity: {_f(summary['neuron_comparison'])}.</p></section>",
        f"<section><h2>Over the fleet ({overall['drives']} drives, {overall['frames']} frames)"
        f"</h2>{_agreement_table(overall, roles) if overall['frames'] else ''}"
        + (
            f"<p>Candidate - reference, per frame: |difference| median {_f(diff.get('median'))}, "
            f"p99 {_f(diff.get('p99'))}, max {_f(diff.get('max'))} 1/m; "
            f"{_f(diff.get('share_over'), '.2%') if diff.get('share_over') is not None else '-'} "
            f"of frames over {summary['gate']['diff_threshold']:g} 1/m. Neuron activity "
            f"difference: mean {_f(nd.get('mean'))}, p99 {_f(nd.get('p99'))}.</p>"
            if "reference" in models
            else ""
        )
        + f"<p>As recorded (context, not the models): {_f(ctx.get('takeovers'))} takeovers over "
        f"{_f(ctx.get('autonomous_km'), '.3g')} autonomous km "
        f"({_f(ctx.get('takeovers_per_km'), '.3g')} per km).</p></section>",
        "<section><h2>Drives</h2>"
        + (
            f'<figure><img src="{html.escape(summary["plot"])}" alt="per-drive figures">'
            "<figcaption>per drive: MAE against the human, and the p99 of |candidate - "
            "reference| (dashed: the diff threshold)</figcaption></figure>"
            if summary.get("plot")
            else ""
        )
        + f"{_fleet_table(summary)}</section>",
        f"<section><h2>By tag</h2>{_tags_table(summary)}</section>",
        f"<section><h2>Worst divergences</h2>{_divergences(summary)}</section>",
    ]
    closed = summary.get("closed_loop")
    if closed:
        rows = "".join(
            f"<tr><td>{role}</td><td>{_f(f.get('takeovers'))}</td>"
            f"<td>{_f(f.get('autonomous_km'), '.3g')}</td><td>{_f(f.get('takeovers_per_km'), '.3g')}</td>"
            f"<td>{_f(f.get('lateral_offset_mean_m'), '.3g')}</td></tr>"
            for role, f in (closed.get("figures") or {}).items()
        )
        table = (
            "<table><tr><th>model</th><th>takeovers</th><th>autonomous km</th><th>per km</th>"
            f"<th>mean |offset| m</th></tr>{rows}</table>"
            if rows
            else ""
        )
        sections.append(
            "<section><h2>Closed loop (ncp-sim, context: not in the verdict)</h2>"
            f"<p>{_f(closed.get('note') or closed.get('skipped'))}</p>{table}</section>"
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>ncp-eval</title><style>{PAGE_CSS}{_EXTRA_CSS}</style></head><body>"
        "<header><h1>Fleet evaluation</h1><p>candidate "
        f"{_f(models['candidate']['path'])}"
        + (f" against reference {_f(models['reference']['path'])}" if "reference" in models else "")
        + "</p></header><main>"
        + "".join(sections)
        + "</main><footer>ncp-eval; the figures are in summary.json, the tables beside it.</footer>"
        "</body></html>\n"
    )

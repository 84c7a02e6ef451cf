"""``compare.html``: one self-contained page (the figures embedded as PNG), built from the
``compare.json`` document alone: the result in words, the table, the paper's plots, the
details per test, what was run and how long it took."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

from ncp_driver.report.page import PAGE_CSS
from ncp_driver.schemas import ActiveResult, Compare, Spread

__all__ = ["TITLE", "render_page"]

TITLE = "Model comparison"

_EXTRA_CSS = """
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.best{font-weight:700}.na{color:#8c8f94}
ul.result li{margin:4px 0}
.errors{border-left:6px solid #d63638}
"""

_PASSIVE_NOTE = (
    "The models are not retrained per fold (that would be the paper's full cross-testing): "
    "each fold is a group of held-out drives that no model was trained or validated on, and "
    "the spread across folds shows how much the figure depends on which drives are used."
)
_ACTIVE_NOTE = (
    "Closed loop in ncp-sim: procedural roads rendered from the car's actual pose, the car's own "
    "pipeline, an actuator delay and lag, a virtual safety driver that takes over when the car "
    "leaves its lane (docs/sim.md). A simulator, not a car: it ranks models on these roads only."
)


def _e(text: object) -> str:
    return html.escape(str(text))


def _num(value: float | int | None, spec: str = ".3g") -> str:
    if value is None:
        return '<span class="na">n/a</span>'
    return format(value, spec)


def _spread(s: Spread | None, spec: str = ".3g") -> str:
    if s is None or s.mean is None:
        return '<span class="na">n/a</span>'
    return f"{s.mean:{spec}} ± {(s.std or 0.0):.2g}"  # the spread to 2 digits, never "0.0000"


def _table(
    head: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric_from: int = 1,
    numeric_to: int | None = None,
) -> str:
    """Columns ``numeric_from`` to ``numeric_to`` (exclusive; None: the last) right-aligned."""
    end = len(head) if numeric_to is None else numeric_to

    def numeric(i: int) -> bool:
        return numeric_from <= i < end

    cells = "".join(
        f'<th class="num">{_e(h)}</th>' if numeric(i) else f"<th>{_e(h)}</th>"
        for i, h in enumerate(head)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{c}</td>' if numeric(i) else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{cells}</tr>{body}</table>"


def _figure(out: Path | None, name: str | None, title: str, caption: str) -> str:
    if out is None or name is None or not (out / name).is_file():
        return ""
    data = base64.b64encode((out / name).read_bytes()).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{_e(title)}">'
        f"<figcaption><b>{_e(title)}.</b> {_e(caption)}</figcaption></figure>"
    )


def _result(doc: Compare, key: tuple[str, float | None]) -> ActiveResult | None:
    if doc.active is None:
        return None
    for r in doc.active.results:
        if (r.model, r.noise_std) == key:
            return r
    return None


def _per_km(r: ActiveResult | None) -> str:
    if r is None or r.takeovers_per_km is None:
        return '<span class="na">n/a</span>'
    lo, hi = r.takeovers_per_km_95
    return f"{r.takeovers_per_km:.3g} [{_num(lo)}-{_num(hi)}]"


def _levels(doc: Compare) -> list[float]:
    if doc.active is None:
        return []
    return sorted({r.noise_std for r in doc.active.results if r.noise_std is not None})


def _summary_table(doc: Compare) -> str:
    levels = _levels(doc)
    shown = sorted(set(levels[:1] + levels[-1:]))  # the noise-free level and the strongest
    top = max(
        (max(m.attention.levels) for m in doc.models if m.attention and m.attention.levels),
        default=None,
    )
    head = ["model", "kind", "parameters", "synapses", "MAE 1/m (folds)", "corr (folds)"]
    head += [f"takeovers/km @ {v:g} [95 %]" for v in shown]
    head += ["SSIM" if top is None else f"SSIM @ {top:g}", "max Lipschitz", "latency ms"]
    rows = []
    for m in doc.models:
        a = m.attention
        ssim = a.ssim_mean[a.levels.index(top)] if a and top in a.levels else None
        row = [
            f"<b>{_e(m.name)}</b>",
            _e(m.kind),
            _num(m.size.parameters, ","),
            _num(m.size.synapses, ","),
            _spread(m.passive.mae if m.passive else None, ".3g"),
            _spread(m.passive.corr if m.passive else None, ".3f"),
        ]
        row += [_per_km(_result(doc, (m.name, v))) for v in shown]
        row += [
            _num(ssim, ".3f"),
            _num(m.smoothness.max_spectral_norm) if m.smoothness else '<span class="na">n/a</span>',
            _num(m.size.latency_ms_median, ".3g"),
        ]
        rows.append(row)
    expert = _result(doc, ("expert", None))
    if expert is not None:
        rows.append(
            ["expert (reference driver)", "-", "-", "-", "-", "-"]
            + [_per_km(expert) for _ in shown]
            + ["-", "-", "-"]
        )
    return _table(head, rows, numeric_from=2)


def _active_section(doc: Compare, figures: dict[str, str], out: Path | None) -> str:
    if doc.active is None:
        return "<p>The closed loop was not run.</p>"
    levels = _levels(doc)
    rows = []
    for m in [*[m.name for m in doc.models], "expert"]:
        keys = [None] if m == "expert" else levels
        for v in keys:
            r = _result(doc, (m, v))
            if r is None:
                continue
            rows.append(
                [_e(m), "-" if v is None else f"{v:g}", str(r.takeovers), f"{r.autonomous_km:.2f}",
                 _per_km(r), _num(r.lateral_offset_mean_m)]
            )  # fmt: skip
    roads = doc.active.roads
    table = _table(
        ["model", "noise std", "takeovers", "autonomous km", "per km [95 %]", "mean |offset| m"],
        rows,
        numeric_from=1,
    )
    return (
        f"<p>{_e(_ACTIVE_NOTE)} {len(roads)} roads (seeds "
        f"{', '.join(str(r.seed) for r in roads)}), {roads[0].length_m:g} m each; "
        f"source: {_e(doc.active_source)}.</p>"
        + _figure(
            out,
            figures.get("active"),
            "Takeovers per km against input noise",
            "ncp-sim's figure: each model's takeovers per autonomous km at each noise level, "
            "with the 95 % Poisson interval; the dashed line is the reference driver.",
        )
        + table
    )


def _passive_section(doc: Compare, figures: dict[str, str], out: Path | None) -> str:
    rows = []
    for m in doc.models:
        if m.passive is None:
            rows.append([_e(m.name), '<span class="na">not run</span>', "", "", "", ""])
            continue
        for f in m.passive.folds:
            rows.append(
                [_e(m.name), str(f.fold), _e(", ".join(f.drives)), str(f.frames),
                 _num(f.mae, ".4f"), _num(f.corr, ".3f")]
            )  # fmt: skip
    return (
        f"<p>{_e(_PASSIVE_NOTE)} Each drive runs through the car's pipeline frame by frame "
        "(state carried along the drive); the model's curvature before limits is compared with "
        "the drive's curvature (1/m).</p>"
        + _figure(
            out,
            figures.get("passive"),
            "Open-loop error per model",
            "Mean absolute error and correlation of the model's curvature with the drives' "
            "curvature; bars are the mean over folds with their standard deviation, dots the folds.",
        )
        + _table(["model", "fold", "drives", "frames", "MAE 1/m", "corr"], rows, numeric_from=3)
    )


def _attention_section(doc: Compare, figures: dict[str, str], out: Path | None) -> str:
    rows = [
        [_e(m.name), str(m.attention.frames)]
        + [f"{_num(v, '.3f')} ± {_num(s, '.3f')}" for v, s in zip(m.attention.ssim_mean, m.attention.ssim_std, strict=True)]
        for m in doc.models
        if m.attention is not None
    ]  # fmt: skip
    levels = next((m.attention.levels for m in doc.models if m.attention), [])
    return (
        "<p>VisualBackProp saliency of the conv head on frames of the held-out drives, with the "
        "paper's seeded Gaussian input noise, compared with the noise-free maps by SSIM (1 = the "
        "same map; the audit's analysis, docs/audit.md).</p>"
        + _figure(
            out,
            figures.get("ssim"),
            "Saliency SSIM against input noise",
            "Mean SSIM (± std over the frames) of each model's saliency maps under noise against "
            "its own noise-free maps (at noise 0 the maps are the reference, SSIM 1): higher means "
            "attention that moves less under noise.",
        )
        + _table(["model", "frames", *[f"SSIM @ {v:g}" for v in levels]], rows, numeric_from=1)
    )


def _smoothness_section(doc: Compare) -> str:
    rows = []
    for m in doc.models:
        s = m.smoothness
        if s is None:
            rows.append(
                [
                    _e(m.name),
                    f'<span class="na">{_e(m.smoothness_note or "n/a")}</span>',
                    "",
                    "",
                    "",
                    "",
                ]
            )
            continue
        rows.append(
            [_e(m.name), _e(s.drive), str(s.frames), str(s.state_size), _num(s.max_spectral_norm),
             f"{_num(s.median_spectral_norm)} / {_num(s.p95_spectral_norm)}"]
        )  # fmt: skip
    return (
        "<p>The audit's smoothness analysis: the spectral norm of the state update's Jacobian "
        "dh'/dh (a local Lipschitz constant) at frames along the model's own closed-loop drive "
        "(the first road, noise-free), the states recomputed from the features, elapsed times "
        "and resets the pipeline gave there (docs/audit.md). Feed-forward models have no "
        "state: n/a.</p>"
        + _table(
            ["model", "drive", "frames", "state size", "max", "median / p95"], rows, numeric_from=2
        )
    )


def _size_section(doc: Compare) -> str:
    rows = [
        [_e(m.name), _e(m.kind), _num(m.size.parameters, ","), _e(m.size.parameters_source),
         _num(m.size.synapses, ","), str(m.size.neurons), str(m.size.state_size),
         f"{m.size.file_bytes / 1e6:.2f}", _num(m.size.latency_ms_median), _num(m.size.latency_ms_p90)]
        for m in doc.models
    ]  # fmt: skip
    timed = next((m.size for m in doc.models if m.size.latency_runs), None)
    what = (
        f"{timed.latency_what}, median and 90th percentile over {timed.latency_runs} frames"
        if timed
        else "not measured"
    )
    return (
        f"<p>Latency per frame on this machine's CPU, as the model cards measure it ({_e(what)}). "
        "Reported, not judged: it depends on the machine and on what else ran.</p>"
        + _table(
            [
                "model",
                "kind",
                "parameters",
                "counted from",
                "synapses",
                "neurons",
                "state",
                "file MB",
                "latency ms",
                "p90 ms",
            ],
            rows,
            numeric_from=2,
        )
    )


def _settings_section(doc: Compare) -> str:
    drives = _table(
        ["drive", "fold", "frames", "seed", "file"],
        [
            [_e(d.name), str(d.fold), str(d.frames), _num(d.seed, "d"),
             _e(d.path or "generated with ncp-synth's library, not kept")]
            for d in doc.drives
        ],
        numeric_from=1,
        numeric_to=4,
    )  # fmt: skip
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in doc.timing_s.items())
    models = _table(
        ["model", "file", "sha256", "card"],
        [[_e(m.name), _e(m.path), f"<code>{m.sha256[:16]}</code>", _e(m.card or "-")] for m in doc.models],
        numeric_from=4,
    )  # fmt: skip
    return f"{models}<h3>Held-out drives</h3>{drives}<p>Time taken: {_e(timing)}.</p>"


def render_page(doc: Compare, figures: dict[str, str], out: Path | None = None) -> str:
    """The page as one HTML string; ``figures`` (role -> PNG name in ``out``) are embedded."""
    statements = "".join(f"<li>{_e(s.text)}</li>" for s in doc.ranking)
    errors = "".join(f"<li>{_e(e)}</li>" for e in doc.errors)
    notes = "".join(f'<p class="note">{_e(n)}</p>' for n in doc.notes)
    sections = [
        '<section id="result"><h2>Result</h2><p>Computed from the numbers below, whichever '
        "model it favours; where intervals or fold spreads overlap, it says so.</p>"
        f'<ul class="result">{statements or "<li>nothing could be ranked</li>"}</ul>{notes}</section>',
    ]
    if errors:
        sections.append(
            f'<section id="errors" class="errors"><h2>What failed</h2><ul>{errors}</ul></section>'
        )
    sections += [
        f'<section id="table"><h2>Side by side</h2>{_summary_table(doc)}</section>',
        f'<section id="active"><h2>Active test: takeovers per km</h2>{_active_section(doc, figures, out)}</section>',
        f'<section id="passive"><h2>Passive test: open loop on held-out drives</h2>{_passive_section(doc, figures, out)}</section>',
        f'<section id="attention"><h2>Attention under noise</h2>{_attention_section(doc, figures, out)}</section>',
        f'<section id="smoothness"><h2>Smoothness of the dynamics</h2>{_smoothness_section(doc)}</section>',
        f'<section id="size"><h2>Size and latency</h2>{_size_section(doc)}</section>',
        f'<section id="settings"><h2>What was compared</h2>{_settings_section(doc)}</section>',
    ]  # fmt: skip
    names = ", ".join(m.name for m in doc.models)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{TITLE}</title><style>{PAGE_CSS}{_EXTRA_CSS}</style></head><body>"
        f"<header><h1>{TITLE}</h1><p>{len(doc.models)} model(s): {_e(names)}. "
        "Synthetic roads and drives only (ncp_driver.synth): not a real car.</p></header><main>"
        + "".join(sections)
        + "</main><footer>ncp-compare; every figure is in compare.json beside this page.</footer>"
        "</body></html>\n"
    )

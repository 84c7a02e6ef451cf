"""The result in words, computed from the numbers: who is best at each figure, and whether the
difference is clear (Poisson intervals that overlap, fold spreads that overlap). Nothing here
knows which kind of model is expected to win."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial

from ncp_driver.schemas import Active, ActiveResult, CompareModel, CompareStatement
from ncp_driver.sim import EXPERT

__all__ = ["rank"]

_TIE = 1e-12


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _names(names: Sequence[str]) -> str:
    return ", ".join(names)


def _best(
    values: dict[str, float | None], lower: bool
) -> tuple[list[str], float | None, dict[str, float]]:
    known = {k: v for k, v in values.items() if v is not None and math.isfinite(v)}
    if not known:
        return [], None, known
    target = min(known.values()) if lower else max(known.values())
    best = [k for k, v in known.items() if abs(v - target) <= _TIE * max(1.0, abs(target))]
    return best, target, known


def _statement(
    figure: str,
    values: dict[str, float | None],
    lower: bool,
    describe: Callable[[list[str], float, dict[str, float]], str],
) -> CompareStatement | None:
    best, value, known = _best(values, lower)
    if value is None:
        return None
    text = describe(best, value, known)
    if len(known) == 1:
        text += " (one model only: nothing to rank against)"
    return CompareStatement(
        figure=figure,
        better="lower" if lower else "higher",
        best=best,
        value=value,
        text=text,
    )


def _active_text(
    level: float,
    rows: dict[str, ActiveResult | None],
    best: list[str],
    value: float,
    known: dict[str, float],
) -> str:
    first = rows[best[0]]
    assert first is not None
    lo, hi = first.takeovers_per_km_95
    text = (
        f"lowest takeovers/km at noise {level:g}: {_names(best)} ({_fmt(value)} per km, "
        f"95 % interval {_fmt(lo or 0.0)}-{_fmt(hi or 0.0)}, "
        f"{first.autonomous_km:.2f} autonomous km)"
    )
    overlap = []
    for m in known:
        r = rows[m]
        if m in best or r is None or hi is None:
            continue
        low = r.takeovers_per_km_95[0]
        if low is not None and low <= hi:
            overlap.append(m)
    if overlap:
        text += (
            f"; the 95 % intervals of {_names(overlap)} overlap with it: not a clear "
            "difference on these roads"
        )
    return text


def _active(doc: Active, models: list[str]) -> list[CompareStatement]:
    out = []
    by_key = {(r.model, r.noise_std): r for r in doc.results}
    levels = sorted({r.noise_std for r in doc.results if r.noise_std is not None})
    expert = by_key.get((EXPERT, None))
    if expert is not None and expert.takeovers_per_km is not None:
        lo, hi = expert.takeovers_per_km_95
        out.append(
            CompareStatement(
                figure="expert_takeovers_per_km",
                better="lower",
                best=[EXPERT],
                value=expert.takeovers_per_km,
                text=(
                    f"the reference driver (expert, no camera) on the same roads: "
                    f"{_fmt(expert.takeovers_per_km)} takeovers/km (95 % interval "
                    f"{_fmt(lo or 0.0)}-{_fmt(hi or 0.0)}): the floor of the simulator's rule"
                ),
            )
        )
    for level in levels:
        rows = {m: by_key.get((m, level)) for m in models}
        values = {m: (r.takeovers_per_km if r else None) for m, r in rows.items()}
        found = _statement(
            f"takeovers_per_km@{level:g}", values, True, partial(_active_text, level, rows)
        )
        if found is not None:
            out.append(found)
    return out


def _spread_text(
    what: str, unit: str, spreads: dict[str, tuple[float, float]]
) -> Callable[[list[str], float, dict[str, float]], str]:
    def describe(best: list[str], value: float, known: dict[str, float]) -> str:
        std = spreads[best[0]][1]
        text = f"{what}: {_names(best)} ({_fmt(value)}{unit} +- {_fmt(std)} across folds)"
        close = [m for m in known if m not in best and abs(known[m] - value) <= std + spreads[m][1]]
        if close:
            text += f"; {_names(close)} within the fold spread of it"
        return text

    return describe


def rank(models: Sequence[CompareModel], active: Active | None) -> list[CompareStatement]:
    """Every statement the page makes about who is best, from the numbers alone."""
    names = [m.name for m in models]
    out: list[CompareStatement | None] = []
    if active is not None:
        out += _active(active, names)
    passive = {m.name: m.passive for m in models if m.passive is not None}
    for key, what, unit, lower in (
        ("mae", "lowest open-loop MAE", " 1/m", True),
        ("corr", "highest open-loop correlation", "", False),
    ):
        spreads = {
            n: (getattr(p, key).mean, getattr(p, key).std or 0.0)
            for n, p in passive.items()
            if getattr(p, key).mean is not None
        }
        out.append(
            _statement(
                f"passive_{key}",
                {n: s[0] for n, s in spreads.items()},
                lower,
                _spread_text(what, unit, spreads),
            )
        )
    attention = {m.name: m.attention for m in models if m.attention and m.attention.levels}
    if attention:
        top = max(max(a.levels) for a in attention.values())
        values = {
            n: a.ssim_mean[a.levels.index(top)] if top in a.levels else None
            for n, a in attention.items()
        }
        out.append(
            _statement(
                f"ssim@{top:g}",
                values,
                False,
                lambda best, value, known: (
                    f"saliency most stable at noise {top:g}: {_names(best)} "
                    f"(SSIM {value:.3f} against the noise-free maps)"
                ),
            )
        )
    lipschitz = {m.name: m.smoothness.max_spectral_norm for m in models if m.smoothness}
    out.append(
        _statement(
            "max_lipschitz",
            lipschitz,
            True,
            lambda best, value, known: (
                f"smoothest recurrent dynamics (lowest maximum local Lipschitz constant): "
                f"{_names(best)} ({_fmt(value)})"
            ),
        )
    )
    params: dict[str, float | None] = {
        m.name: float(m.size.parameters) for m in models if m.size.parameters is not None
    }
    out.append(
        _statement(
            "parameters",
            params,
            True,
            lambda best, value, known: f"fewest parameters: {_names(best)} ({value:,.0f})",
        )
    )
    return [s for s in out if s is not None]

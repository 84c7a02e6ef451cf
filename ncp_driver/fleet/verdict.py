"""The verdict: is the candidate no worse than the reference? Each threshold is one check.

========================  ==================================================================
``max_mae_regression``    the candidate's pooled MAE against the human may exceed the
                          reference's by at most this fraction (default 0.05 = 5 %)
``max_rmse_regression``   the same for RMSE (off by default)
``max_corr_drop``         the correlation with the human may drop by at most this (off)
``max_drive_mae_regression`` the MAE check on every drive alone (off)
``max_p99_diff``          p99 of |candidate - reference| over the fleet, 1/m (off)
``max_diff_share``        the share of frames with |candidate - reference| > the diff
                          threshold (off)
``max_mae``               the candidate's pooled MAE, 1/m, with or without a reference (off)
========================  ==================================================================

The agreement checks use the frames of one mode (``gate_mode``: ``all`` by default; ``manual``
compares with what a human did, where autonomous frames hold what the reference model itself
steered). A check whose figure cannot be computed (no human steering in the drives) is reported
as skipped and does not fail. The run fails (exit 1) on a regression; drives that could not be
evaluated are reported apart and fail the run only with ``strict`` (or when none was evaluated).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Gate", "verdict"]


@dataclass(frozen=True)
class Gate:
    """The thresholds of the verdict (None: check off)."""

    max_mae_regression: float | None = 0.05
    max_rmse_regression: float | None = None
    max_corr_drop: float | None = None
    max_drive_mae_regression: float | None = None
    max_p99_diff: float | None = None
    max_diff_share: float | None = None
    max_mae: float | None = None
    diff_threshold: float = 0.002  # 1/m: frames differing more count in the share
    gate_mode: str = "all"
    strict: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _g(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _relative(c: float | None, r: float | None) -> float | None:
    if c is None or r is None:
        return None
    if r == 0:
        return 0.0 if c == 0 else math.inf
    return c / r - 1.0


def _check(
    name: str, value: float | None, limit: float, detail: str, higher_is_worse: bool = True
) -> dict[str, Any]:
    if value is None:
        return {"check": name, "value": None, "limit": limit, "passed": None, "detail": detail}
    passed = value <= limit if higher_is_worse else value >= limit
    return {"check": name, "value": value, "limit": limit, "passed": bool(passed), "detail": detail}


def verdict(
    gate: Gate,
    overall: dict[str, Any],
    drives: list[dict[str, Any]],
    failures: list[dict[str, Any]],
    partial: list[str],
) -> dict[str, Any]:
    """The verdict document: the checks, the reasons, and the exit status (0 or 1)."""
    mode = gate.gate_mode
    cand = overall.get("candidate")
    ref = overall.get("reference")
    checks: list[dict[str, Any]] = []
    if cand is not None and ref is not None:
        c, r = cand[mode], ref[mode]
        if gate.max_mae_regression is not None:
            checks.append(
                _check(
                    "mae_regression",
                    _relative(c["mae"], r["mae"]),
                    gate.max_mae_regression,
                    f"MAE ({mode}) candidate {_g(c['mae'])} vs reference {_g(r['mae'])} 1/m",
                )
            )
        if gate.max_rmse_regression is not None:
            checks.append(
                _check(
                    "rmse_regression",
                    _relative(c["rmse"], r["rmse"]),
                    gate.max_rmse_regression,
                    f"RMSE ({mode}) candidate {_g(c['rmse'])} vs reference {_g(r['rmse'])} 1/m",
                )
            )
        if gate.max_corr_drop is not None:
            drop = None if c["corr"] is None or r["corr"] is None else r["corr"] - c["corr"]
            checks.append(
                _check(
                    "corr_drop",
                    drop,
                    gate.max_corr_drop,
                    f"correlation ({mode}) candidate {_g(c['corr'])} vs reference {_g(r['corr'])}",
                )
            )
        if gate.max_drive_mae_regression is not None:
            for d in drives:
                if d.get("candidate") is None or d.get("reference") is None:
                    continue
                value = _relative(d["candidate"][mode]["mae"], d["reference"][mode]["mae"])
                checks.append(
                    _check(
                        f"drive_mae_regression:{d['name']}",
                        value,
                        gate.max_drive_mae_regression,
                        f"MAE ({mode}) on drive {d['name']}",
                    )
                )
        diff = overall.get("difference") or {}
        if gate.max_p99_diff is not None:
            checks.append(
                _check(
                    "p99_diff",
                    diff.get("p99"),
                    gate.max_p99_diff,
                    "p99 of |candidate - reference| over all frames, 1/m",
                )
            )
        if gate.max_diff_share is not None:
            checks.append(
                _check(
                    "diff_share",
                    diff.get("share_over"),
                    gate.max_diff_share,
                    f"share of frames with |candidate - reference| > {gate.diff_threshold:g} 1/m",
                )
            )
    if gate.max_mae is not None and cand is not None:
        checks.append(
            _check("max_mae", cand[mode]["mae"], gate.max_mae, f"candidate MAE ({mode}), 1/m")
        )
    regressions = [c for c in checks if c["passed"] is False]
    reasons = [
        f"{c['check']}: {c['value']:.6g} > limit {c['limit']:g} ({c['detail']})"
        for c in regressions
    ]
    evaluated = len(drives)
    incomplete = bool(failures) or bool(partial)
    if evaluated == 0:
        reasons.append("no drive could be evaluated")
    if incomplete:
        what = f"{len(failures)} drive(s) could not be evaluated"
        if partial:
            what += f", {len(partial)} evaluated from damaged input"
        reasons.append(what + (" (--strict: this fails the run)" if gate.strict else ""))
    fail = bool(regressions) or evaluated == 0 or (incomplete and gate.strict)
    if ref is None and gate.max_mae is None:
        summary = "no reference model: nothing to compare against (only agreement figures)"
    elif regressions:
        summary = "regression"
    elif evaluated == 0:
        summary = "nothing evaluated"
    else:
        summary = "no worse"
    return {
        "result": summary,
        "passed": not fail,
        "regression": bool(regressions),
        "drives_evaluated": evaluated,
        "drives_failed": len(failures),
        "drives_partial": len(partial),
        "strict": gate.strict,
        "checks": checks,
        "reasons": reasons,
        "exit_code": 1 if fail else 0,
    }

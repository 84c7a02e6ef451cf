"""The verdict's rules on hand-made figures: each check, skipped checks, failures and --strict."""

from __future__ import annotations

from typing import Any

from ncp_driver.fleet import Gate
from ncp_driver.fleet.compare import stretches_of
from ncp_driver.fleet.verdict import verdict


def _m(mae: float | None, rmse: float | None = None, corr: float | None = None) -> dict[str, Any]:
    one = {"frames": 10, "mae": mae, "rmse": rmse, "corr": corr}
    return {"autonomous": one, "manual": one, "all": one}


def _overall(cand: float | None, ref: float | None, **diff: float) -> dict[str, Any]:
    return {"candidate": _m(cand, cand, 0.9), "reference": _m(ref, ref, 0.95), "difference": diff}


DRIVE = [{"name": "d", "candidate": _m(0.1), "reference": _m(0.1)}]


def test_each_check_fails_past_its_limit_and_passes_within() -> None:
    overall = _overall(0.106, 0.1, p99=0.003, share_over=0.2)
    passing = verdict(Gate(max_mae_regression=0.07), overall, DRIVE, [], [])
    assert passing["passed"] and passing["exit_code"] == 0 and passing["result"] == "no worse"
    failing = verdict(Gate(), overall, DRIVE, [], [])  # default 5 %
    assert failing["regression"] and failing["exit_code"] == 1
    assert failing["reasons"][0].startswith("mae_regression: 0.06 > limit 0.05")
    gate = Gate(max_mae_regression=None, max_p99_diff=0.002, max_diff_share=0.1, max_corr_drop=0.01)
    checks = {c["check"]: c["passed"] for c in verdict(gate, overall, DRIVE, [], [])["checks"]}
    assert checks == {"corr_drop": False, "p99_diff": False, "diff_share": False}


def test_a_check_without_its_figure_is_skipped_not_failed() -> None:
    result = verdict(Gate(), _overall(None, None), DRIVE, [], [])
    assert result["checks"][0]["passed"] is None and result["passed"]


def test_failed_drives_fail_the_run_only_with_strict_or_when_nothing_was_evaluated() -> None:
    failures = [{"name": "x", "path": "x", "reason": "damaged"}]
    overall = _overall(0.1, 0.1)
    loose = verdict(Gate(), overall, DRIVE, failures, [])
    assert loose["passed"] and not loose["regression"] and loose["drives_failed"] == 1
    strict = verdict(Gate(strict=True), overall, DRIVE, failures, [])
    assert not strict["passed"] and not strict["regression"] and strict["exit_code"] == 1
    partial = verdict(Gate(strict=True), overall, DRIVE, [], ["d"])
    assert partial["exit_code"] == 1 and partial["drives_partial"] == 1
    nothing = verdict(Gate(), {"candidate": None}, [], failures, [])
    assert nothing["exit_code"] == 1 and "no drive could be evaluated" in nothing["reasons"]


def test_without_a_reference_only_the_absolute_mae_can_fail() -> None:
    overall = {"candidate": _m(0.02)}
    assert verdict(Gate(), overall, DRIVE, [], [])["result"].startswith("no reference")
    assert verdict(Gate(max_mae=0.01), overall, DRIVE, [], [])["exit_code"] == 1


def test_stretches_grow_to_half_the_peak_and_keep_apart() -> None:
    import numpy as np

    t = np.arange(40) * 0.1
    diff = np.zeros(40)
    diff[5:9] = [0.2, 0.6, 1.0, 0.4]  # peak at 7, >= 0.5 from 6 to 7
    diff[9] = 0.45  # below half of the first peak: its own stretch, but within 2 s
    diff[30:33] = [-0.3, -0.8, -0.5]  # a negative difference counts by its size
    found = stretches_of(0, t, diff, count=5, min_gap_s=2.0)
    assert [(s.first, s.peak, s.last) for s in found] == [(6, 7, 7), (31, 31, 32)]
    assert found[1].peak_diff == 0.8

"""Dropped-frame estimate from stamp gaps."""

from __future__ import annotations

from ncp_driver.runtime.clock import DropEstimator, clamp_elapsed


def feed(est: DropEstimator, stamps: list[float]) -> list[int]:
    return [est.observe(s) for s in stamps]


def test_no_estimate_until_the_period_is_known() -> None:
    est = DropEstimator(max_gap_s=1.0)
    assert feed(est, [0.0, 0.1, 0.3]) == [0, 0, 0]
    assert est.nominal_period_s is None


def test_gaps_of_whole_periods_count_missing_frames() -> None:
    est = DropEstimator(max_gap_s=1.0)
    period = 1 / 30
    stamps = [i * period for i in range(10)]
    assert sum(feed(est, stamps)) == 0
    assert est.nominal_period_s is not None and abs(est.nominal_period_s - period) < 1e-9
    t = stamps[-1]
    assert est.observe(t + 3 * period) == 2  # two frames missing
    assert est.observe(t + 4.4 * period) == 0  # 1.4 periods: jitter, not a drop
    assert est.observe(t + 6.4 * period) == 1  # 2.0 periods


def test_long_gaps_and_backward_stamps_are_not_counted() -> None:
    est = DropEstimator(max_gap_s=1.0)
    feed(est, [i * 0.1 for i in range(10)])
    assert est.observe(5.0) == 0  # a pause: the pipeline resets instead
    assert est.observe(1.0) == 0  # a recording starting over
    assert est.observe(1.1) == 0
    assert est.observe(1.3) == 1


def test_clamp() -> None:
    assert clamp_elapsed(0.0, 0.001, 0.5) == 0.001
    assert clamp_elapsed(2.0, 0.001, 0.5) == 0.5
    assert clamp_elapsed(0.03, 0.001, 0.5) == 0.03

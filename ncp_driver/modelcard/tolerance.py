"""How closely ``verify`` must recompute each kind of figure a card states."""

from __future__ import annotations

import math

__all__ = [
    "ATOL",
    "CLOSED_LOOP_COUNT_TOLERANCE",
    "CLOSED_LOOP_KM_RTOL",
    "COUNT_TOLERANCE",
    "DEAD_SHARE",
    "RTOL",
    "SHARE_ATOL",
    "TAU_RTOL",
    "close",
]

RTOL = 1e-2  # figures agree within 1 % (or ATOL): other CPUs and library versions round differently
ATOL = 1e-5
# Closed loop amplifies last-bit differences between CPUs: a takeover count may move by one, the
# distance driven autonomously by a few per cent.
CLOSED_LOOP_COUNT_TOLERANCE = 1
CLOSED_LOOP_KM_RTOL = 0.05
# Internals (the replay's features and neurons): a feature's share of non-zero frames within one
# percentage point, a count of features or neurons within one (a share may sit on a threshold),
# a time constant within 5 % (relative only: some are microseconds).
SHARE_ATOL = 0.01
COUNT_TOLERANCE = 1
TAU_RTOL = 0.05
DEAD_SHARE = 0.05  # a feature non-zero on fewer frames than this counts as dead (issue 14)


def close(a: float | None, b: float | None, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Whether a recomputed figure ``a`` agrees with the card's ``b`` (both None: yes)."""
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)

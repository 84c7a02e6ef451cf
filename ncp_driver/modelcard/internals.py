"""A model's internals on the card's replay drive: dead features and the LTC time constants.

The health criteria of issue 14, from the same replay as the card's replay metrics:

- ``features``: for each output of the model's ``features`` (the conv head's 32 sensory
  features; for ``cnn`` its first dense layer), the share of frames on which it is non-zero,
  the number non-zero on fewer than :data:`DEAD_SHARE` of the frames (dead ReLUs) and on none,
  and the size of the non-zero values;
- ``time_constants`` (``ncp`` only): the LTC neurons' tau = cm / (g_leak + sum w s) along the
  drive (:mod:`ncp_driver.audit.timeconstants`, the parameters from the model's metadata),
  against the frame period: a neuron whose tau is far below one frame follows its inputs
  within the frame and carries no memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ncp_driver.modelcard.tolerance import (
    COUNT_TOLERANCE,
    DEAD_SHARE,
    SHARE_ATOL,
    TAU_RTOL,
    close,
)

__all__ = [
    "feature_activity",
    "internals_problems",
    "internals_rows",
    "time_constant_summary",
]

_TAU_FIGURES = ("min_s", "median_s", "max_s", "neuron_median_min_s", "neuron_median_max_s")
_TAU_COUNTS = ("neurons_median_below_frame",)


def feature_activity(features: np.ndarray) -> dict[str, Any]:
    """Per feature, the share of frames on which it is non-zero; the dead and silent counts."""
    x = np.asarray(features, dtype=np.float64)
    x = x.reshape(x.shape[0], -1)
    if x.shape[0] == 0:
        return {"frames": 0, "features": int(x.shape[1]), "nonzero_share": []}
    share = (x != 0).mean(axis=0)
    nonzero = np.abs(x[x != 0])
    return {
        "frames": int(x.shape[0]),
        "features": int(x.shape[1]),
        "nonzero_share": [round(float(s), 6) for s in share],
        "dead_below_share": DEAD_SHARE,
        "dead": int((share < DEAD_SHARE).sum()),
        "never_nonzero": int((share == 0).sum()),
        "nonzero_median_abs": float(np.median(nonzero)) if nonzero.size else None,
        "nonzero_max_abs": float(nonzero.max()) if nonzero.size else None,
    }


def time_constant_summary(
    params: Any, neurons: np.ndarray, features: np.ndarray, frame_period_s: float
) -> dict[str, Any]:
    """The range of the LTC time constants along the replay, in seconds, and the frame period."""
    from ncp_driver.audit.timeconstants import ltc_time_constants

    tau = ltc_time_constants(params, np.asarray(neurons), np.asarray(features))
    finite = tau[np.isfinite(tau)]
    medians = np.median(tau, axis=0)
    return {
        "frames": int(tau.shape[0]),
        "neurons": int(tau.shape[1]),
        "frame_period_s": float(frame_period_s),
        "min_s": float(finite.min()) if finite.size else None,
        "median_s": float(np.median(finite)) if finite.size else None,
        "max_s": float(finite.max()) if finite.size else None,
        "neuron_median_min_s": float(medians.min()),
        "neuron_median_max_s": float(medians.max()),
        "neurons_median_below_frame": int((medians < frame_period_s).sum()),
        "share_below_frame": float((tau < frame_period_s).mean()),
        "sensory_synapses": True,
    }


def internals_rows(
    got: Mapping[str, Any], stated: Mapping[str, Any]
) -> list[tuple[str, Any, Any, bool]]:
    """(figure, recomputed, card, agrees) for every internal figure the card states."""
    rows: list[tuple[str, Any, Any, bool]] = []
    mine_f, card_f = got.get("features") or {}, stated.get("features")
    if card_f:
        for name in ("dead", "never_nonzero"):
            a, b = mine_f.get(name), card_f.get(name)
            rows.append((f"features {name}", a, b, a is not None and abs(a - b) <= COUNT_TOLERANCE))
        for name in ("nonzero_median_abs", "nonzero_max_abs"):
            a, b = mine_f.get(name), card_f.get(name)
            rows.append((f"features {name}", a, b, close(a, b)))
        shares, card_shares = mine_f.get("nonzero_share", []), card_f["nonzero_share"]
        worst = (
            max(abs(a - b) for a, b in zip(shares, card_shares, strict=True))
            if len(shares) == len(card_shares) and shares
            else None
        )
        rows.append(
            (
                f"features nonzero share (max diff of {len(card_shares)})",
                worst,
                0.0,
                worst is not None and worst <= SHARE_ATOL,
            )
        )
    mine_t, card_t = got.get("time_constants") or {}, stated.get("time_constants")
    if card_t:
        for name in _TAU_FIGURES:
            a, b = mine_t.get(name), card_t.get(name)
            rows.append((f"tau {name}", a, b, close(a, b, rtol=TAU_RTOL, atol=0.0)))
        for name in _TAU_COUNTS:
            a, b = mine_t.get(name), card_t.get(name)
            rows.append((f"tau {name}", a, b, a is not None and abs(a - b) <= COUNT_TOLERANCE))
        a, b = mine_t.get("share_below_frame"), card_t.get("share_below_frame")
        rows.append(("tau share_below_frame", a, b, close(a, b, rtol=0.0, atol=SHARE_ATOL)))
    return rows


def internals_problems(got: Mapping[str, Any], stated: Mapping[str, Any]) -> list[str]:
    """The internal figures that do not reproduce (empty when all do)."""
    return [
        f"internals {name}: {mine}, the card says {card}"
        for name, mine, card, ok in internals_rows(got, stated)
        if not ok
    ]

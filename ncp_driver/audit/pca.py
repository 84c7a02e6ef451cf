"""Principal component analysis of the hidden activity (numpy SVD), as in the paper.

The activity matrix X (frames x neurons) is centred per neuron; X - mean = U S V^T. Component k
is row k of V^T, its variance S_k^2 / (N - 1), its share of the total variance S_k^2 / sum S^2,
and the per-frame scores are (X - mean) V. Rows with a non-finite value are left out of the fit
and get NaN scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from ncp_driver.audit.errors import AuditError
from ncp_driver.audit.figures import draw_track, new_figure, shade_spans
from ncp_driver.audit.replay import Replay, Trace
from ncp_driver.geo import to_local_m, track_origin

__all__ = ["PcaResult", "pca", "plot_pca", "plot_pca_on_track"]


@dataclass(frozen=True)
class PcaResult:
    """Principal components of an activity matrix."""

    mean: np.ndarray  # (K,)
    components: np.ndarray  # (C, K), orthonormal rows, sign: largest |loading| positive
    explained_variance: np.ndarray  # (C,)
    explained_ratio: np.ndarray  # (C,), sums to 1 over all components
    scores: np.ndarray  # (N, C), NaN for rows left out

    def project(self, values: np.ndarray) -> np.ndarray:
        """Scores of new activity rows."""
        return (np.asarray(values, dtype=np.float64) - self.mean) @ self.components.T


def pca(values: np.ndarray) -> PcaResult:
    """PCA of ``values`` (frames x units); needs at least two finite rows."""
    data = np.asarray(values, dtype=np.float64)
    if data.ndim != 2:
        raise AuditError(f"PCA needs a frames x units matrix, got shape {data.shape}")
    ok = np.all(np.isfinite(data), axis=1)
    fit = data[ok]
    if fit.shape[0] < 2:
        raise AuditError(f"PCA needs at least 2 frames with finite activity, got {fit.shape[0]}")
    mean = fit.mean(axis=0)
    _, singular, vt = np.linalg.svd(fit - mean, full_matrices=False)
    # A deterministic sign: the largest loading of each component is positive.
    signs = np.sign(vt[np.arange(vt.shape[0]), np.argmax(np.abs(vt), axis=1)])
    vt = vt * np.where(signs == 0, 1.0, signs)[:, None]
    variance = singular**2 / (fit.shape[0] - 1)
    total = float(np.sum(singular**2))
    ratio = singular**2 / total if total > 0 else np.zeros_like(singular)
    scores = np.full((data.shape[0], vt.shape[0]), np.nan)
    scores[ok] = (fit - mean) @ vt.T
    return PcaResult(
        mean=mean,
        components=vt,
        explained_variance=variance,
        explained_ratio=ratio,
        scores=scores,
    )


def plot_pca(
    result: PcaResult,
    stamp: np.ndarray,
    *,
    autonomous: np.ndarray | None = None,
    title: str = "PCA of the hidden activity",
) -> Figure:
    """Variance explained per component (and cumulative) and PC1/PC2 over time."""
    fig = new_figure(11.0, 4.0)
    bar_ax, time_ax = fig.subplots(1, 2, width_ratios=(1.0, 2.2))
    k = np.arange(1, result.explained_ratio.size + 1)
    bar_ax.bar(k, 100 * result.explained_ratio, color="tab:blue", label="per component")
    bar_ax.plot(
        k,
        100 * np.cumsum(result.explained_ratio),
        "o-",
        color="tab:orange",
        ms=3,
        label="cumulative",
    )
    bar_ax.set_xlabel("component")
    bar_ax.set_ylabel("variance explained (%)")
    bar_ax.set_ylim(0, 105)
    bar_ax.legend(fontsize=8)
    bar_ax.set_title(title, fontsize=10)
    t = stamp - (stamp[0] if stamp.size else 0.0)
    if autonomous is not None:
        shade_spans(time_ax, t, np.asarray(autonomous, dtype=bool))
    for c in range(min(2, result.scores.shape[1])):
        share = 100 * result.explained_ratio[c]
        time_ax.plot(t, result.scores[:, c], lw=1.0, label=f"PC{c + 1} ({share:.0f} %)")
    time_ax.set_xlabel("time (s)")
    time_ax.set_ylabel("score")
    time_ax.legend(loc="upper right", fontsize=8)
    return fig


def plot_pca_on_track(replay: Replay, trace: Trace, result: PcaResult) -> Figure:
    """PC1 and PC2 drawn on the GPS road trace."""
    if not replay.has_gps:
        raise AuditError(f"{replay.directory} has no GPS positions: no road trace to draw on")
    lat, lon = replay.position_at(trace.stamp)
    east, north = to_local_m(lat, lon, track_origin(lat, lon))
    count = min(2, result.scores.shape[1])
    fig = new_figure(5.2 * count, 4.2)
    axes = np.atleast_1d(fig.subplots(1, count, squeeze=False)).ravel()
    for c, ax in enumerate(axes):
        draw_track(fig, ax, east, north, result.scores[:, c], f"PC{c + 1}", symmetric=True)
        ax.set_title(f"PC{c + 1} ({100 * result.explained_ratio[c]:.0f} % of variance)")
    return fig

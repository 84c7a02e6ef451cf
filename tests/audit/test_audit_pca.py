"""PCA of the hidden activity: numpy SVD against known structure and the covariance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ncp_driver.audit import AuditError, load_replay, pca
from ncp_driver.audit.pca import plot_pca, plot_pca_on_track


def test_recovers_a_planted_two_dimensional_subspace() -> None:
    rng = np.random.default_rng(3)
    basis = np.linalg.qr(rng.normal(size=(6, 2)))[0].T  # 2 orthonormal directions in R^6
    latent = rng.normal(size=(500, 2)) * np.array([3.0, 1.0])
    data = latent @ basis + np.array([1.0, -2.0, 0, 0, 5.0, 0])
    result = pca(data)
    assert result.explained_ratio[:2].sum() == pytest.approx(1.0, abs=1e-9)
    assert result.explained_ratio[0] == pytest.approx(9 / 10, abs=0.05)
    overlap = result.components[:2] @ basis.T  # each PC lies in the planted plane
    assert np.allclose(np.linalg.svd(overlap, compute_uv=False), 1.0, atol=1e-9)
    assert np.allclose(result.project(data), result.scores)


def test_matches_the_covariance_eigendecomposition() -> None:
    data = np.random.default_rng(1).normal(size=(200, 5)) @ np.diag([5, 3, 2, 1, 0.5])
    result = pca(data)
    eigen = np.sort(np.linalg.eigvalsh(np.cov(data, rowvar=False)))[::-1]
    assert np.allclose(result.explained_variance, eigen)
    assert np.allclose(result.components @ result.components.T, np.eye(5), atol=1e-10)
    largest = np.argmax(np.abs(result.components), axis=1)
    assert np.all(result.components[np.arange(5), largest] > 0)


def test_rows_with_nan_are_left_out() -> None:
    data = np.random.default_rng(2).normal(size=(50, 3))
    holed = data.copy()
    holed[[4, 9]] = np.nan
    result = pca(holed)
    assert np.all(np.isnan(result.scores[[4, 9]]))
    reference = pca(np.delete(data, [4, 9], axis=0))
    assert np.allclose(result.explained_ratio, reference.explained_ratio)
    with pytest.raises(AuditError, match="at least 2 frames"):
        pca(np.full((5, 3), np.nan))
    with pytest.raises(AuditError, match="frames x units"):
        pca(np.zeros(5))


def test_figures(real_replay: Path) -> None:
    replay = load_replay(real_replay)
    trace = replay.require_neurons()
    result = pca(trace.values)
    fig = plot_pca(result, trace.stamp, autonomous=replay.mode_at(trace.stamp))
    assert len(fig.axes[0].patches) == 19  # one bar per component
    assert [line.get_label() for line in fig.axes[1].get_lines()][:2] == [
        f"PC1 ({100 * result.explained_ratio[0]:.0f} %)",
        f"PC2 ({100 * result.explained_ratio[1]:.0f} %)",
    ]
    track = plot_pca_on_track(replay, trace, result)
    assert [ax.get_title()[:3] for ax in track.axes if ax.get_title()] == ["PC1", "PC2"]

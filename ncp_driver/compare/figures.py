"""The paper's plots for the page: takeovers per km against noise (ncp-sim's own figure), the
saliency SSIM against noise, and the passive MAE per model with its spread across folds."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ncp_driver.atomic import atomic_write_bytes
from ncp_driver.replay.plot import figure_png, new_figure
from ncp_driver.schemas import Active, CompareModel
from ncp_driver.sim.outputs import write_plot

__all__ = ["ACTIVE_PNG", "PASSIVE_PNG", "SSIM_PNG", "write_figures"]

ACTIVE_PNG = "active.png"
SSIM_PNG = "ssim.png"
PASSIVE_PNG = "passive.png"


def _ssim(models: Sequence[CompareModel]) -> bytes | None:
    rows = [m for m in models if m.attention is not None and m.attention.levels]
    if not rows:
        return None
    fig = new_figure(6.4, 4.2)
    ax = fig.subplots()
    for m in rows:
        a = m.attention
        assert a is not None
        # noise 0 is the reference itself: SSIM 1 by definition
        mean = np.array([1.0, *(np.nan if v is None else v for v in a.ssim_mean)])
        std = np.array([0.0, *(0.0 if v is None else v for v in a.ssim_std)])
        ax.errorbar([0.0, *a.levels], mean, yerr=std, marker="o", capsize=3, label=m.name)
    ax.set_xlabel("input noise std (on the [0, 1] image)")
    ax.set_ylabel("SSIM of saliency vs noise-free (mean +- std)")
    ax.set_ylim(top=1.02)
    ax.set_title(f"VisualBackProp saliency under noise ({rows[0].attention.frames} frames)")  # type: ignore[union-attr]
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return figure_png(fig)


def _passive(models: Sequence[CompareModel]) -> bytes | None:
    rows = [m for m in models if m.passive is not None and m.passive.mae.mean is not None]
    if not rows:
        return None
    fig = new_figure(max(6.4, 1.2 * len(rows) + 3.0), 4.2)
    mae_ax, corr_ax = fig.subplots(1, 2)
    x = np.arange(len(rows))
    for ax, key, label in (
        (mae_ax, "mae", "open-loop MAE (1/m)"),
        (corr_ax, "corr", "open-loop correlation"),
    ):
        means, stds, points = [], [], []
        for m in rows:
            p = m.passive
            assert p is not None
            s = getattr(p, key)
            means.append(np.nan if s.mean is None else s.mean)
            stds.append(0.0 if s.std is None else s.std)
            points.append([getattr(f, key) for f in p.folds if getattr(f, key) is not None])
        ax.bar(x, means, yerr=stds, capsize=4, color="tab:blue", alpha=0.6)
        for i, values in enumerate(points):
            ax.scatter(np.full(len(values), i), values, color="black", s=12, zorder=3)
        ax.set_xticks(x, [m.name for m in rows], rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, axis="y")
    mae_ax.set_title("MAE per model (bar: mean +- std; dots: folds)", fontsize=9)
    corr_ax.set_title("correlation per model", fontsize=9)
    return figure_png(fig)


def write_figures(
    out: Path, models: Sequence[CompareModel], active: Active | None
) -> dict[str, str]:
    """Write the figures that have data into ``out``; their names by role."""
    written = {}
    if active is not None and active.results:
        write_plot(active, out / ACTIVE_PNG)
        written["active"] = ACTIVE_PNG
    for role, name, png in (
        ("ssim", SSIM_PNG, _ssim(models)),
        ("passive", PASSIVE_PNG, _passive(models)),
    ):
        if png is not None:
            atomic_write_bytes(out / name, png)
            written[role] = name
    return written

"""The full audit page: the replay's report plus every analysis the replay and model allow."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ncp_driver.audit.analyses import (
    Analysis,
    lipschitz_analysis,
    neuron_activity_analysis,
    pca_analysis,
    saliency_analysis,
    time_constant_analysis,
)
from ncp_driver.audit.replay import Replay, load_replay
from ncp_driver.errors import NcpDriverError
from ncp_driver.report.page import ReportSection, write_report

__all__ = ["write_audit_report"]


def _on_track(result: Analysis) -> Analysis:
    """Only the road-trace plot: the report draws the activity over time itself."""
    result.plots = [p for p in result.plots if p.name == "neurons_on_track"]
    return result


def write_audit_report(
    replay_dir: Path | str,
    out_html: Path | str,
    *,
    model: Path | None = None,
    saliency_frames: tuple[np.ndarray, np.ndarray] | None = None,
    title: str = "NCP drive audit",
    max_frames: int = 300,
    replay: Replay | None = None,
    no_saliency_reason: str = "no frames given for VisualBackProp",
    sim_dir: Path | None = None,
) -> Path:
    """Write the page; analyses that cannot run are listed in an "Analyses not run" section.

    ``saliency_frames`` is ``(stamps, preprocessed uint8 frames)`` for VisualBackProp; ``model``
    defaults to the one named in the replay's metrics.json; ``sim_dir`` (an ``ncp-sim --out``
    directory) adds the closed-loop section.
    """
    replay = replay or load_replay(replay_dir)
    model = model or replay.model_path
    steps: list[tuple[str, Callable[[], Analysis]]] = [
        ("neurons on the road", lambda: _on_track(neuron_activity_analysis(replay, model))),
        ("PCA", lambda: pca_analysis(replay)),
        ("time constants", lambda: time_constant_analysis(replay, model)),
        ("Lipschitz", lambda: lipschitz_analysis(replay, model, max_frames=max_frames)),
    ]
    skipped: dict[str, str] = {}
    if saliency_frames is not None and model is not None:
        stamps, images = saliency_frames
        steps.append(("saliency", lambda: saliency_analysis(model, images, stamps)))
    else:
        skipped["saliency"] = no_saliency_reason
    figures = {}
    for name, run in steps:
        try:
            figures.update(run().captions())
        except NcpDriverError as exc:
            skipped[name] = str(exc)
    sections = [ReportSection("Analyses not run", table=skipped)] if skipped else []
    return write_report(
        replay_dir,
        out_html,
        title=title,
        figures=figures,
        sections=sections,
        replay=replay,
        sim_dir=sim_dir,
    )

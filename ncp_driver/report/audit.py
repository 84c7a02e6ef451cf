"""The full audit page: the replay's report plus every analysis the replay and model allow.

Each analysis figure gets a caption here (what it shows, where it comes from, how to read it);
the saliency-under-noise figure and its SSIM table go to the robustness section.
"""

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
from ncp_driver.report.page import ReportFigure, ReportSection, write_report

__all__ = ["CAPTIONS", "write_audit_report"]

CAPTIONS: dict[str, tuple[str, str]] = {
    "neurons_on_track": (
        "Neuron potentials on the road",
        "The GPS track coloured by the state of the most active neurons (neurons.csv, from the "
        "replay). A neuron whose colour changes with the road's bends encodes the curvature.",
    ),
    "saliency_overlays": (
        "Where the model looks (VisualBackProp saliency)",
        "Evenly spaced frames of the drive, cropped and resized as the model sees them, with "
        "the conv head's saliency on top (red: pixels that drive the output most). A good "
        "driver looks at the lane markings and road edges, not at the sky or the scenery.",
    ),
    "saliency_noise": (
        "Saliency under input noise",
        "Structural similarity (SSIM) of the saliency maps with noise against the maps "
        "without, per noise level (mean and spread over the frames). 1 is unchanged; the "
        "paper's NCP keeps its attention better than the LSTM and CNN baselines.",
    ),
    "pca": (
        "Principal components of the hidden activity",
        "Left: the share of the neurons' variance each component explains (cumulative line). "
        "Right: the first two components over time, autonomous shaded. A few components "
        "explaining most of the variance means a compact, readable dynamics.",
    ),
    "pca_on_track": (
        "The first two components on the road",
        "PC1 and PC2 of the neuron activity drawn on the GPS track: in the paper, PC1 follows "
        "the road's curvature.",
    ),
    "time_constants": (
        "LTC time constants",
        "Each neuron's time constant along the drive (top, log scale) and its distribution "
        "(bottom), from the model's LTC parameters and the replay's neuron states. A time "
        "constant is how long the neuron takes to follow its inputs. Values below one frame "
        "(dashed line), down to microseconds, come from strongly active synapses that clamp the "
        "neuron: it then acts as an instantaneous function of its inputs, not as memory.",
    ),
    "time_constants_on_track": (
        "Time constants on the road",
        "log10 of the chosen neurons' time constants on the GPS track: where on the road a "
        "neuron reacts fast or holds its state.",
    ),
    "lipschitz": (
        "Smoothness of the dynamics (local Lipschitz constants)",
        "How much the state update can amplify a small change of the state, along the drive "
        "(the model's cell re-run on the replay's inputs). Smaller and steadier is smoother; "
        "large spikes mark places where the network is sensitive.",
    ),
}


def _figures(result: Analysis) -> list[ReportFigure]:
    out = []
    for plot in result.plots:
        title, caption = CAPTIONS.get(plot.name, (plot.caption, ""))
        out.append(ReportFigure(title, plot.figure, caption))
    return out


def _on_track(result: Analysis) -> Analysis:
    """Only the road-trace plot: the report draws the activity over time itself."""
    result.plots = [p for p in result.plots if p.name == "neurons_on_track"]
    return result


def _ssim_table(result: Analysis) -> dict[str, str]:
    summary = result.summary
    levels = summary.get("levels", [])
    means = summary.get("ssim_mean", [])
    stds = summary.get("ssim_std", [])
    return {
        f"noise std {level:g}": f"SSIM {mean:.3f} ± {std:.3f} over {summary.get('frames')} frames"
        for level, mean, std in zip(levels, means, stds, strict=False)
    }


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
    closed_loop: ReportSection | None = None,
    sim_dir: Path | None = None,
) -> Path:
    """Write the page; analyses that cannot run are listed in an "Analyses not run" section.

    ``saliency_frames`` is ``(stamps, preprocessed uint8 frames)`` for VisualBackProp; ``model``
    defaults to the one named in the replay's metrics.json; ``closed_loop`` is the simulator's
    section, or ``sim_dir`` (an ``ncp-sim --out`` directory) gives it.
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
        steps.insert(0, ("saliency", lambda: saliency_analysis(model, images, stamps)))
    else:
        skipped["saliency"] = no_saliency_reason
    figures: list[ReportFigure] = []
    robustness: list[ReportFigure] = []
    ssim: dict[str, str] = {}
    for name, run in steps:
        try:
            result = run()
        except NcpDriverError as exc:
            skipped[name] = str(exc)
            continue
        for figure, plot in zip(_figures(result), result.plots, strict=True):
            (robustness if plot.name == "saliency_noise" else figures).append(figure)
        if result.name == "saliency":
            ssim = _ssim_table(result)
    sections = [ReportSection("Analyses not run", table=skipped)] if skipped else []
    return write_report(
        replay_dir,
        out_html,
        title=title,
        figures=figures,
        sections=sections,
        replay=replay,
        robustness=robustness,
        robustness_table=ssim,
        closed_loop=closed_loop,
        sim_dir=sim_dir,
    )

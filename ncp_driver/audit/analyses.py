"""Each analysis end to end: replay (and model) in, named figures and a JSON summary out.

The ``analysis/`` scripts and the report call these; they hold no logic of their own.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ncp_driver.audit.errors import AuditError
from ncp_driver.audit.neurons import (
    NeuronLayout,
    neuron_layout,
    plot_neuron_activity,
    plot_neurons_on_track,
    salient_neurons,
)
from ncp_driver.audit.output import atomic_write_bytes, atomic_write_text, save_figure
from ncp_driver.audit.pca import pca, plot_pca, plot_pca_on_track
from ncp_driver.audit.replay import Replay
from ncp_driver.audit.saliency import (
    SaliencyModel,
    plot_noise_robustness,
    plot_saliency_overlays,
    saliency_noise_robustness,
)
from ncp_driver.audit.smoothness import CellModel, plot_smoothness, replay_rollout, smoothness
from ncp_driver.audit.timeconstants import LtcParameters, ltc_time_constants, plot_time_constants
from ncp_driver.preprocessing import to_model_input
from ncp_driver.replay.noise import PAPER_NOISE_LEVELS, PAPER_NOISE_SEED
from ncp_driver.replay.subgraphs import load_model, metadata, read_contract
from ncp_driver.schemas import ANALYSIS_DOCUMENTS, Document

__all__ = [
    "Analysis",
    "Plot",
    "lipschitz_analysis",
    "neuron_activity_analysis",
    "pca_analysis",
    "replay_layout",
    "saliency_analysis",
    "time_constant_analysis",
]


@dataclass(frozen=True)
class Plot:
    """A figure with the file stem it is saved under and a caption for the report."""

    name: str
    caption: str
    figure: Figure


@dataclass
class Analysis:
    """What an analysis produced: plots and a JSON-ready summary."""

    name: str
    plots: list[Plot] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def captions(self) -> dict[str, Figure]:
        """Caption -> figure, for :func:`ncp_driver.report.write_report`."""
        return {p.caption: p.figure for p in self.plots}

    def write(self, out_dir: Path | str) -> list[Path]:
        """Save each plot as ``<name>.png``, the summary as ``<analysis>.json`` and any arrays
        as ``<analysis>.npz``."""
        out = Path(out_dir)
        paths = [save_figure(p.figure, out / f"{p.name}.png") for p in self.plots]
        if self.arrays:
            buffer = io.BytesIO()
            np.savez_compressed(buffer, **self.arrays)  # type: ignore[arg-type]
            paths.append(atomic_write_bytes(out / f"{self.name}.npz", buffer.getvalue()))
        doc = self.document()
        paths.append(atomic_write_text(out / doc.FILE, doc.dumps()))
        return paths

    def document(self) -> Document:
        """The summary as its typed document (``ncp_driver.schemas.ANALYSIS_DOCUMENTS``); a key
        the schema does not know is a bug here, not something to drop."""
        cls = ANALYSIS_DOCUMENTS[self.name]
        text = json.dumps(self.summary, allow_nan=False, default=_json_default)
        data = {**json.loads(text), "notes": self.notes}
        unknown = sorted(set(data) - {f.name for f in fields(cls)})  # type: ignore[arg-type]
        if unknown:
            raise ValueError(f"{cls.FILE}: keys {unknown} are not in {cls.__name__}; add them")
        return cls.from_json({"schema": cls.SCHEMA, "version": cls.VERSION, **data})


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _finite(values: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=float)]


def replay_layout(replay: Replay, model_path: Path | None = None) -> tuple[NeuronLayout, str]:
    """The neuron layout of the replay's model (or plain units) and a note on its source."""
    trace = replay.require_neurons()
    path = model_path or replay.model_path
    if path is None or not Path(path).is_file():
        return neuron_layout(None, trace.width), "no model file: neurons unlabelled"
    contract = read_contract(load_model(path), source=str(path))
    return neuron_layout(contract.wiring, trace.width), f"layout from {Path(path).name}"


def neuron_activity_analysis(
    replay: Replay, model_path: Path | None = None, neurons: Sequence[int] | None = None
) -> Analysis:
    """Neuron activity over time, and chosen neurons on the GPS trace (paper's figures)."""
    trace = replay.require_neurons()
    layout, note = replay_layout(replay, model_path)
    chosen = list(neurons) if neurons is not None else salient_neurons(trace.values, layout)
    bad = [n for n in chosen if not 0 <= n < layout.count]
    if bad:
        raise AuditError(f"neurons {bad} do not exist; the replay has {layout.count}")
    result = Analysis("neuron_activity", notes=[note])
    result.plots.append(
        Plot(
            "neuron_activity",
            "Neuron activity over time",
            plot_neuron_activity(
                trace, layout, autonomous=replay.mode_at(trace.stamp), highlight=chosen
            ),
        )
    )
    if replay.has_gps:
        result.plots.append(
            Plot(
                "neurons_on_track",
                "Neuron potentials on the road",
                plot_neurons_on_track(replay, trace, layout, chosen),
            )
        )
    else:
        result.notes.append("no GPS: no road-trace figure")
    result.summary = {
        "frames": int(trace.stamp.size),
        "neurons": layout.count,
        "labels": list(layout.labels),
        "highlighted": chosen,
        "mean": _finite(np.nanmean(trace.values, axis=0)),
        "std": _finite(np.nanstd(trace.values, axis=0)),
    }
    return result


def time_constant_analysis(
    replay: Replay, model_path: Path | None = None, neurons: Sequence[int] | None = None
) -> Analysis:
    """LTC time constants along the drive, from the model's ``ltc_parameters`` metadata."""
    trace = replay.require_neurons()
    path = model_path or replay.require_model()
    params = LtcParameters.from_metadata(metadata(load_model(path)))
    if params is None:
        raise AuditError(
            f"{path} carries no LTC parameters (metadata ncp_driver.ltc_parameters): only NCP "
            "models exported by a current ncp-export have them"
        )
    layout, note = replay_layout(replay, path)
    features = None
    if replay.sensory is not None and np.array_equal(replay.sensory.stamp, trace.stamp):
        features = replay.sensory.values
    tau = ltc_time_constants(params, trace.values, features)
    result = Analysis("time_constants", notes=[note])
    if features is None:
        result.notes.append("no sensory.csv aligned with neurons.csv: sensory synapses left out")
    result.plots.append(
        Plot("time_constants", "LTC time constants", plot_time_constants(trace.stamp, tau, layout))
    )
    chosen = list(neurons) if neurons is not None else salient_neurons(trace.values, layout)
    if replay.has_gps:
        result.plots.append(
            Plot(
                "time_constants_on_track",
                "Time constants on the road",
                plot_neurons_on_track(
                    replay, trace, layout, chosen, values=np.log10(tau), quantity="log10 tau (s)"
                ),
            )
        )
    result.summary = {
        "frames": int(tau.shape[0]),
        "labels": list(layout.labels),
        "median_s": _finite(np.median(tau, axis=0)),
        "p5_s": _finite(np.percentile(tau, 5, axis=0)),
        "p95_s": _finite(np.percentile(tau, 95, axis=0)),
        "sensory_synapses": features is not None,
        "time_unit_s": params.time_unit_s,
    }
    return result


def pca_analysis(replay: Replay) -> Analysis:
    """PCA of the neuron activity: variance explained, PC1/PC2 over time and on the road."""
    trace = replay.require_neurons()
    fit = pca(trace.values)
    result = Analysis("pca")
    result.plots.append(
        Plot(
            "pca",
            "PCA of the hidden activity",
            plot_pca(fit, trace.stamp, autonomous=replay.mode_at(trace.stamp)),
        )
    )
    if replay.has_gps:
        result.plots.append(
            Plot("pca_on_track", "PC1 and PC2 on the road", plot_pca_on_track(replay, trace, fit))
        )
    else:
        result.notes.append("no GPS: no road-trace figure")
    result.summary = {
        "frames": int(np.count_nonzero(np.all(np.isfinite(trace.values), axis=1))),
        "explained_ratio": _finite(fit.explained_ratio),
        "cumulative": _finite(np.cumsum(fit.explained_ratio)),
        "components": fit.components.tolist(),
    }
    return result


def saliency_analysis(
    model_path: Path,
    frames: np.ndarray,
    stamps: np.ndarray | None = None,
    levels: Sequence[float] = PAPER_NOISE_LEVELS,
    seed: int = PAPER_NOISE_SEED,
    takeovers: Mapping[float, int] | None = None,
    shown: int = 8,
) -> Analysis:
    """VisualBackProp overlays and SSIM of saliency under input noise.

    ``frames`` are preprocessed uint8 (N, H, W, 3) or float in [0, 1]; ``takeovers`` are crash
    counts per noise level from the car, drawn beside the SSIM when given.
    """
    images = np.asarray(frames)
    saliency = SaliencyModel(model_path)
    spec = saliency.contract.preprocessing  # the model's scale, as the car applies it
    model_input = to_model_input(images, spec) if images.dtype == np.uint8 else images
    masks = saliency.saliency(model_input)
    robust = saliency_noise_robustness(saliency, model_input, levels, seed=seed, clean=masks)
    idx = np.unique(np.linspace(0, images.shape[0] - 1, min(shown, images.shape[0])).astype(int))
    labels = (
        [f"t = {stamps[i] - stamps[0]:.1f} s" for i in idx]
        if stamps is not None
        else [f"frame {i}" for i in idx]
    )
    result = Analysis("saliency")
    result.plots.append(
        Plot(
            "saliency_overlays",
            "VisualBackProp saliency",
            plot_saliency_overlays(model_input[idx], masks[idx], labels),
        )
    )
    result.plots.append(
        Plot(
            "saliency_noise",
            "Saliency SSIM under input noise",
            plot_noise_robustness(robust, takeovers),
        )
    )
    result.summary = {
        "model": str(model_path),
        "layers": list(saliency.layer_names),
        **robust.to_dict(),
        "takeovers": {str(k): v for k, v in (takeovers or {}).items()},
    }
    result.arrays = {"masks": masks, "stamps": np.asarray(stamps if stamps is not None else [])}
    return result


def lipschitz_analysis(
    replay: Replay,
    model_path: Path | None = None,
    every: int = 1,
    max_frames: int | None = 500,
    eps: float = 1e-3,
) -> Analysis:
    """Local Lipschitz constants of the state update along the drive (see smoothness)."""
    path = model_path or replay.require_model()
    cell = CellModel(path)
    rollout = replay_rollout(cell, replay)
    result = Analysis("lipschitz")
    same = replay.neurons is not None and replay.neurons.width == cell.state_size
    if same and replay.neurons is not None and np.array_equal(replay.neurons.stamp, rollout.stamp):
        drift = float(np.max(np.abs(rollout.state_after - replay.neurons.values)))
        result.summary["rollout_vs_neurons_max_abs"] = drift
        if drift > 1e-3:
            result.notes.append(
                f"the recomputed states differ from neurons.csv by up to {drift:.3g}: the "
                "replay's resets or elapsed times differ from the assumed ones"
            )
    found = smoothness(cell, rollout, every=every, max_frames=max_frames, eps=eps)
    labels: list[str] | None = None
    if same:
        labels = list(replay_layout(replay, path)[0].labels)
    result.plots.append(
        Plot("lipschitz", "Smoothness: local Lipschitz constants", plot_smoothness(found, labels))
    )
    result.summary.update(found.to_dict())
    result.summary["kind"] = cell.contract.kind
    result.summary["state_size"] = cell.state_size
    return result

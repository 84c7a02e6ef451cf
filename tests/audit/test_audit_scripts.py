"""The analysis/ scripts end to end on a replay made by running a real exported model."""

from __future__ import annotations

import html
import json
import runpy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ncp_driver.drives import write_drive
from ncp_driver.report.audit import CAPTIONS
from ncp_driver.schemas import (
    Document,
    LipschitzSummary,
    NeuronActivitySummary,
    PcaSummary,
    SaliencySummary,
    SchemaError,
    TimeConstantsSummary,
)

ROOT = Path(__file__).resolve().parents[2]


def script(name: str) -> Callable[[list[str]], int]:
    return runpy.run_path(str(ROOT / "analysis" / f"{name}.py"), run_name="analysis_test")["main"]


def typed(path: Path, cls: type[Document], field: str) -> dict[str, Any]:
    """The analysis's JSON as written: its schema's document, read back unchanged; a wrong type
    in ``field`` is refused naming the field."""
    raw = dict(json.loads(path.read_text()))
    assert raw["schema"] == cls.SCHEMA and raw["version"] == cls.VERSION
    assert cls.read(path).to_json() == raw
    with pytest.raises(SchemaError, match=rf"{cls.FILE}\.{field} must be"):
        cls.from_json({**raw, field: "wrong"})
    return raw


@pytest.fixture(scope="module")
def drive_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small drive file of full camera frames (any resolution: the crop is relative)."""
    rng = np.random.default_rng(2)
    frames = [rng.integers(0, 255, (151, 240, 3), dtype=np.uint8) for _ in range(6)]
    for k, frame in enumerate(frames):
        frame[75:, 60 + 10 * k : 120 + 10 * k] = 200  # a bright road patch that moves
    path = tmp_path_factory.mktemp("drive") / "drive.h5"
    return write_drive(path, frames, [100.0 + 0.1 * k for k in range(6)], [0.0] * 6)


def test_neuron_activity(replayed: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert (
        script("neuron_activity")([str(replayed.directory), "--out", str(out), "--neurons", "0,2"])
        == 0
    )
    assert {p.name for p in out.iterdir()} == {
        "neuron_activity.png",
        "neurons_on_track.png",
        "neuron_activity.json",
    }
    summary = typed(out / "neuron_activity.json", NeuronActivitySummary, "highlighted")
    assert summary["labels"][0] == "motor 0" and summary["highlighted"] == [0, 2]
    assert summary["mean"] == pytest.approx(replayed.neurons.mean(axis=0).tolist(), abs=1e-6)
    assert (
        script("neuron_activity")([str(replayed.directory), "--out", str(out), "--neurons", "0,40"])
        == 1
    )


def test_time_constants_and_pca(replayed: Any, tmp_path: Path) -> None:
    assert script("time_constants")([str(replayed.directory), "--out", str(tmp_path)]) == 0
    tau = typed(tmp_path / "time_constants.json", TimeConstantsSummary, "sensory_synapses")
    assert tau["sensory_synapses"] is True and len(tau["median_s"]) == 19
    assert all(
        0 < lo <= mid <= hi
        for lo, mid, hi in zip(tau["p5_s"], tau["median_s"], tau["p95_s"], strict=True)
    )
    assert script("pca")([str(replayed.directory), "--out", str(tmp_path)]) == 0
    pca = typed(tmp_path / "pca.json", PcaSummary, "components")
    assert pca["cumulative"][-1] == pytest.approx(1.0)
    assert (tmp_path / "pca_on_track.png").stat().st_size > 0


def test_lipschitz(replayed: Any, tmp_path: Path, lstm_model: Path) -> None:
    assert (
        script("lipschitz")([str(replayed.directory), "--out", str(tmp_path), "--max-frames", "12"])
        == 0
    )
    summary = typed(tmp_path / "lipschitz.json", LipschitzSummary, "state_size")
    assert summary["frames"] == 12 and summary["kind"] == "ncp"
    assert summary["rollout_vs_neurons_max_abs"] < 1e-5 and summary["notes"] == []
    # Another stateful kind on the same features: state of 128, no neuron labels needed.
    assert (
        script("lipschitz")(
            [
                str(replayed.directory),
                "--out",
                str(tmp_path / "lstm"),
                "--model",
                str(lstm_model),
                "--max-frames",
                "4",
            ]
        )
        == 0
    )
    lstm = typed(tmp_path / "lstm" / "lipschitz.json", LipschitzSummary, "max_spectral_norm")
    assert lstm["state_size"] == 128 and len(lstm["row_sum_max"]) == 128
    # An LSTM has no LTC time constants: a clear error, exit status 1.
    assert (
        script("time_constants")(
            [str(replayed.directory), "--out", str(tmp_path), "--model", str(lstm_model)]
        )
        == 1
    )


def test_saliency(replayed: Any, drive_file: Path, tmp_path: Path) -> None:
    rc = script("saliency")(
        [
            str(replayed.model),
            str(drive_file),
            "--out",
            str(tmp_path),
            "--frames",
            "4",
            "--levels",
            "0.1,0.3",
            "--takeovers",
            "0.1=1,0.3=3",
        ]
    )
    assert rc == 0
    summary = typed(tmp_path / "saliency.json", SaliencySummary, "takeovers")
    assert summary["levels"] == [0.1, 0.3] and summary["frames"] == 4
    assert len(summary["layers"]) == 5 and summary["takeovers"] == {"0.1": 1, "0.3": 3}
    assert all(-1 <= v < 1 for v in summary["ssim_mean"])
    masks = np.load(tmp_path / "saliency.npz")["masks"]
    assert masks.shape == (4, 78, 200) and masks.min() == 0 and masks.max() == pytest.approx(1)
    assert script("saliency")([str(replayed.model), "drive.bag", "--out", str(tmp_path)]) == 2


def test_report_with_every_analysis(replayed: Any, drive_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert (
        script("report")(
            [
                str(replayed.directory),
                "--out",
                str(out),
                "--drive",
                str(drive_file),
                "--saliency-frames",
                "2",
                "--max-frames",
                "5",
            ]
        )
        == 0
    )
    page = out.read_text()
    for name in (
        "neurons_on_track",
        "pca",
        "time_constants",
        "lipschitz",
        "saliency_overlays",
        "saliency_noise",
    ):
        title, caption = CAPTIONS[name]
        assert f"<b>{html.escape(title)}.</b> {html.escape(caption)}" in page, name
    assert "Analyses not run" not in page
    assert script("report")([str(replayed.directory), "--out", str(out)]) == 0
    assert "Analyses not run" in out.read_text() and "no --drive file given" in out.read_text()

"""The report page: key figures, plots, graceful degradation, self-containment, atomic write."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest

from ncp_driver.audit import load_replay
from ncp_driver.audit.figures import new_figure
from ncp_driver.audit.output import figure_png
from ncp_driver.audit.sample import SampleDrive, write_sample_replay
from ncp_driver.report import ReportError, ReportSection, key_figures, write_report
from ncp_driver.takeover import find_takeovers


def _figure_values(replay_dir: Path) -> dict[str, str]:
    groups = key_figures(load_replay(replay_dir))
    return {f.label: f.value for g in groups for f in g.figures}


def _images(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]


def test_full_report_is_self_contained(tmp_path: Path) -> None:
    replay_dir = write_sample_replay(tmp_path / "drive", SampleDrive(frames=200))
    extra = new_figure(4, 3)
    extra.subplots().plot([0, 1], [1, 0])
    out = write_report(
        replay_dir,
        tmp_path / "out" / "report.html",
        title="Test <drive>",
        figures={"PCA": extra, "Saliency": figure_png(extra)},
        sections=[ReportSection("Notes", ["a & b"], {"model": "m.onnx"})],
    )
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "Test &lt;drive&gt;" in page and "a &amp; b" in page
    # Nothing is loaded from anywhere: no scripts, no links, every image a PNG data URI.
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert all(src.startswith("data:") for src in re.findall(r'(?:src|href)="([^"]+)"', page))
    images = _images(page)
    assert len(images) == 5  # curvature, track, neurons, and the two given
    assert all(img.startswith(b"\x89PNG\r\n\x1a\n") for img in images)
    for text in (
        "Key figures",
        "Takeovers",
        "Lateral discomfort",
        "Replay vs the human",
        "Inside the network",
        "Analyses",
        "PCA",
        "Saliency",
        "m.onnx",
    ):
        assert text in page
    notes = re.findall(r'<p class="note">([^<]*)</p>', page)
    assert notes == ["The replay&#x27;s model file is not available: neurons are shown unlabelled."]
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no partial files left


def test_key_figures_come_from_the_bag_documents_and_metrics(tmp_path: Path) -> None:
    replay_dir = write_sample_replay(tmp_path / "d", SampleDrive(frames=300))
    takeovers = json.loads((replay_dir / "takeovers.json").read_text())
    metrics = json.loads((replay_dir / "metrics.json").read_text())
    discomfort = json.loads((replay_dir / "discomfort.json").read_text())["sources"][0]
    values = _figure_values(replay_dir)
    assert values["takeovers"] == "2"
    assert values["per hour autonomous"] == f"{takeovers['takeovers_per_hour']:.3g}"
    assert values["distance autonomous"] == f"{takeovers['autonomous_km']:.2f} km"
    assert values["MAE autonomous"] == f"{metrics['autonomous']['mae']:.4f} 1/m"
    assert values["corr manual"] == f"{metrics['manual']['corr']:.3f}"
    assert values["a_lat p95"] == f"{discomfort['a_lat_p95']:.2f} m/s²"
    assert values["share a_lat > 4.89"] == "0.0 %"
    assert values["frames"] == "300"
    assert values["model kind"] == "ncp" and values["provider"] == "CPUExecutionProvider"


def test_without_the_bag_documents_figures_are_computed(tmp_path: Path) -> None:
    replay_dir = write_sample_replay(tmp_path / "d", SampleDrive(frames=300, speed_mps=10.0))
    (replay_dir / "takeovers.json").unlink()
    (replay_dir / "discomfort.json").unlink()
    replay = load_replay(replay_dir)
    values = _figure_values(replay_dir)
    assert values["takeovers"] == str(find_takeovers(replay.stamp, replay.autonomous).size)
    auto_frames = int(replay.autonomous[:-1].sum())
    assert values["time autonomous"].startswith(f"0 min {round(auto_frames * 0.1):02d} s")
    # Distance from GPS: the sample drives 10 m/s, so about 1 m per autonomous frame.
    km = float(values["distance autonomous"].split()[0])
    assert km == pytest.approx(auto_frames * 1.0 / 1000, abs=0.01)
    a_lat = np.abs(replay.speed**2 * replay.curvature)[replay.autonomous]
    assert values["a_lat max"] == f"{a_lat.max():.2f} m/s²"
    page = write_report(replay_dir, tmp_path / "r.html").read_text()
    assert "No takeovers.json" in page and "estimated from the commanded curvature" in page


def test_degrades_without_gps_human_neurons_and_model(tmp_path: Path) -> None:
    replay_dir = write_sample_replay(
        tmp_path / "d", SampleDrive(frames=120, gps=False, human=False), model="gone.onnx"
    )
    (replay_dir / "neurons.csv").unlink()
    page = write_report(replay_dir, tmp_path / "r.html").read_text()
    assert "No GPS positions in this replay" in page
    assert "No human curvature label" in page
    assert "No neurons.csv in this replay" in page
    assert len(_images(page)) == 1  # only the curvature plot is left
    values = _figure_values(replay_dir)
    assert values["MAE autonomous"] == "n/a" and values["corr manual"] == "n/a"
    assert values["takeovers"] == "2"


def test_bad_inputs(tmp_path: Path) -> None:
    replay_dir = write_sample_replay(tmp_path / "d", SampleDrive(frames=40))
    with pytest.raises(ReportError, match="PNG"):
        write_report(replay_dir, tmp_path / "r.html", figures={"x": b"GIF89a"})
    with pytest.raises(ReportError, match="cannot read figure"):
        write_report(replay_dir, tmp_path / "r.html", figures={"x": tmp_path / "none.png"})
    with pytest.raises(ReportError, match="is a directory"):
        write_report(replay_dir, tmp_path)
    assert not (tmp_path / "r.html").exists()


def test_large_rates_are_written_out(tmp_path: Path) -> None:
    replay_dir = write_sample_replay(tmp_path / "d", SampleDrive(frames=48))  # 5 s: many per hour
    rate = json.loads((replay_dir / "takeovers.json").read_text())["takeovers_per_hour"]
    assert rate > 1000
    assert _figure_values(replay_dir)["per hour autonomous"] == f"{rate:,.0f}"

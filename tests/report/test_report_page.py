"""The report page on real tool output (ncp-synth -> ncp-replay -> ncp-bag): the two parts,
key figures from the typed documents, captions, degradation, self-containment, atomic write."""

from __future__ import annotations

import base64
import html
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from ncp_driver.audit import load_replay
from ncp_driver.audit.figures import new_figure
from ncp_driver.audit.output import figure_png
from ncp_driver.report import (
    ReportError,
    ReportFigure,
    ReportSection,
    model_figures,
    recording_figures,
    write_report,
)
from ncp_driver.schemas import Discomfort, Metrics, Takeovers
from ncp_driver.takeover import find_takeovers


def _values(groups: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {f"{g.title}: {f.label}": f.value for g in groups for f in g.figures}


def _images(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]


def _sections(page: str) -> dict[str, str]:
    """Section id -> its HTML, images left out."""
    page = re.sub(r"<img [^>]*>", "", page)
    return dict(re.findall(r'<section id="([^"]+)">(.*?)</section>', page, flags=re.S))


def test_full_report_is_self_contained_and_every_figure_has_a_caption(
    real_replay: Path, tmp_path: Path
) -> None:
    extra = new_figure(4, 3)
    extra.subplots().plot([0, 1], [1, 0])
    out = write_report(
        real_replay,
        tmp_path / "out" / "report.html",
        title="Test <drive>",
        figures=[ReportFigure("An analysis", extra, "what it shows & how to read it")],
        robustness=[ReportFigure("Saliency SSIM", figure_png(extra), "per level")],
        sections=[ReportSection("Notes", ["a & b"], {"model": "m.onnx"})],
    )
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "Test &lt;drive&gt;" in page and "a &amp; b" in page
    # Nothing is loaded from anywhere: no scripts, no links, every image a PNG data URI.
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert all(src.startswith("data:") for src in re.findall(r'(?:src|href)="([^"]+)"', page))
    images = _images(page)
    # track, discomfort.png, curvature, noise metrics, neurons, and the two given
    assert len(images) == 7
    assert all(img.startswith(b"\x89PNG\r\n\x1a\n") for img in images)
    # Every figure has a caption with a title and an explanation.
    captions = re.findall(r"<figure>.*?<figcaption>(.*?)</figcaption></figure>", page, re.S)
    assert len(captions) == len(images)
    own = [c for c in captions if "An analysis" not in c and "Saliency SSIM" not in c]
    assert len(own) == 5 and all(re.match(r"<b>[^<]+\.</b> \S.{40,}", c) for c in own), own
    assert "<b>An analysis.</b> what it shows &amp; how to read it" in page
    # The recording and the model are in separate sections, in that order.
    sections = _sections(page)
    assert list(sections)[:4] == ["recording", "model", "robustness", "closed-loop"]
    assert "Takeovers" in sections["recording"] and "Lateral discomfort" in sections["recording"]
    assert "MAE" not in sections["recording"] and "takeovers.json" in sections["recording"]
    assert "Agreement with the human" in sections["model"] and "Takeovers" not in sections["model"]
    assert "ncp-sim" in sections["closed-loop"]  # the simulator's place, until it is given
    assert "replay replay" not in page
    notes = re.findall(r'<p class="note">([^<]*)</p>', page)
    assert not [n for n in notes if n.startswith("No ")]  # nothing is missing from a full replay
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no partial files left


def test_key_figures_come_from_the_typed_documents(real_replay: Path) -> None:
    replay = load_replay(real_replay)
    takeovers = Takeovers.read(real_replay / "takeovers.json")
    discomfort = Discomfort.read(real_replay / "discomfort.json")
    metrics = Metrics.read(real_replay / "metrics.json")
    recorded = _values(recording_figures(replay))
    assert recorded["Takeovers: takeovers"] == "2"
    assert recorded["Takeovers: per hour autonomous"] == f"{takeovers.takeovers_per_hour:,.0f}"
    assert recorded["Takeovers: distance autonomous"] == f"{takeovers.autonomous_km:.2f} km"
    source = discomfort.main_source()
    assert source is not None and source.a_lat_p95 is not None
    title = f"Lateral discomfort ({discomfort.scope})"
    assert recorded[f"{title}: |a_lat| 95th percentile"] == f"{source.a_lat_p95:.2f} m/s²"
    assert recorded[f"{title}: time with |a_lat| > 4.89 m/s²"] == "0.0 %"  # the unit is there
    model = _values(model_figures(replay))
    group = "Agreement with the human, autonomous stretches"
    assert metrics.autonomous.mae is not None and metrics.manual.corr is not None
    assert model[f"{group}: MAE"] == f"{metrics.autonomous.mae:.4f} 1/m"
    assert model["Agreement in manual stretches (no memory): correlation"] == (
        f"{metrics.manual.corr:.3f}"
    )
    assert model["The replay: frames"] == "120"
    assert model["The replay: model sha256"] == metrics.model_sha256[:16]
    assert not set(recorded) & set(model)


def test_noise_levels_reach_the_robustness_section(real_replay: Path, tmp_path: Path) -> None:
    metrics = Metrics.read(real_replay / "metrics.json")
    page = write_report(real_replay, tmp_path / "r.html").read_text()
    robustness = _sections(page)["robustness"]
    noisy = metrics.noise["0.1"]["autonomous"]
    assert noisy.mae is not None and metrics.autonomous.mae is not None
    rows = re.findall(r"<tr>(.*?)</tr>", robustness)
    cells = [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in rows]
    assert ["0 (clean)", f"{metrics.autonomous.mae:.4f}"] == cells[1][:2]
    assert ["0.1", f"{noisy.mae:.4f}"] == cells[2][:2]
    assert "Agreement with the human under input noise" in robustness


def test_without_the_bag_documents_takeovers_are_counted_from_the_flag(
    real_replay: Path, tmp_path: Path
) -> None:
    replay_dir = Path(shutil.copytree(real_replay, tmp_path / "d"))
    (replay_dir / "takeovers.json").unlink()
    (replay_dir / "discomfort.json").unlink()
    (replay_dir / "discomfort.png").unlink()
    replay = load_replay(replay_dir)
    values = _values(recording_figures(replay))
    assert values["Takeovers: takeovers"] == str(
        find_takeovers(replay.stamp, replay.autonomous).size
    )
    a_lat = np.abs(replay.speed**2 * replay.curvature)[replay.autonomous]
    model = _values(model_figures(replay))
    assert model["Lateral acceleration the commands ask for: max"] == f"{a_lat.max():.2f} m/s²"
    page = write_report(replay_dir, tmp_path / "r.html").read_text()
    assert "No takeovers.json" in page and "No discomfort.json" in page
    assert "Lateral acceleration and jerk of the recorded drive" not in page


def test_degrades_without_gps_human_neurons_and_model(bare_replay: Path, tmp_path: Path) -> None:
    replay_dir = Path(shutil.copytree(bare_replay, tmp_path / "d"))
    (replay_dir / "neurons.csv").unlink()
    page = write_report(replay_dir, tmp_path / "r.html").read_text()
    assert "No GPS positions in this replay" in page
    assert "No human curvature label" in page
    assert "No neurons.csv in this replay" in page
    assert "No noise levels in this replay" in page
    assert len(_images(page)) == 1  # only the curvature plot is left
    replay = load_replay(replay_dir)
    assert "Agreement with the human, autonomous stretches" not in {
        g.title for g in model_figures(replay)
    }
    assert _values(recording_figures(replay))["Takeovers: takeovers"] == "2"


def test_the_manual_staircase_is_explained(real_replay: Path, tmp_path: Path) -> None:
    page = write_report(real_replay, tmp_path / "r.html").read_text()
    model = html.unescape(_sections(page)["model"])
    assert "reset on every manual frame" in model and "flat staircase" in model
    assert "manual_mode=shadow" in model


def test_bad_inputs(real_replay: Path, tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="PNG"):
        write_report(real_replay, tmp_path / "r.html", figures={"x": b"GIF89a"})
    with pytest.raises(ReportError, match="cannot read figure"):
        write_report(real_replay, tmp_path / "r.html", figures={"x": tmp_path / "none.png"})
    with pytest.raises(ReportError, match="is a directory"):
        write_report(real_replay, tmp_path)
    assert not (tmp_path / "r.html").exists()


def test_the_closed_loop_section_takes_the_simulators_results(
    real_replay: Path, tmp_path: Path
) -> None:
    fig = new_figure(4, 3)
    fig.subplots().plot([0, 1], [0, 1])
    section = ReportSection(
        "Closed loop (simulator)",
        ["The model drove a simulated car for 60 s."],
        {"takeovers": "1"},
        [ReportFigure("Simulated track", fig, "where the model's own commands took the car")],
    )
    page = write_report(real_replay, tmp_path / "r.html", closed_loop=section).read_text()
    closed = _sections(page)["closed-loop"]
    assert "drove a simulated car" in closed and "<b>Simulated track.</b>" in closed
    assert "Not run" not in closed

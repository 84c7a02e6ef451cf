"""The report's closed-loop section, from a real ncp-sim output directory."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from sim_helpers import SMALL_ARGS

from ncp_driver.report import ReportError, write_report
from ncp_driver.schemas import Active, SchemaError
from ncp_driver.sim.cli import main


def _images(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]


def test_the_report_gets_the_closed_loop_table_plot_and_tracks(
    zero_model: Path, tmp_path: Path, real_replay: Path
) -> None:
    sim = tmp_path / "sim"
    args = ["--model", str(zero_model), "--expert", "--roads", "1", "--road-m", "250"]
    assert main([*args, *SMALL_ARGS, "--no-bags", "--no-progress", "--out", str(sim)]) == 0
    replay_dir = real_replay  # written by ncp-replay and ncp-bag (tests/conftest.py)
    plain = write_report(replay_dir, tmp_path / "plain.html").read_text()
    page = write_report(replay_dir, tmp_path / "report.html", sim_dir=sim).read_text()
    assert "Closed loop (ncp-sim)" in page and "Closed loop (ncp-sim)" not in plain
    assert "zero, noise 0" in page and "expert" in page and "per km (95 %" in page
    assert len(_images(page)) == len(_images(plain)) + 2  # the plot and the tracks
    assert all(png.startswith(b"\x89PNG") for png in _images(page))


def test_a_directory_without_results_is_refused_with_the_reason(
    tmp_path: Path, real_replay: Path
) -> None:
    replay_dir = real_replay
    with pytest.raises(ReportError, match=r"active\.json"):
        write_report(replay_dir, tmp_path / "r.html", sim_dir=tmp_path / "nothing")
    assert not (tmp_path / "r.html").exists()


def test_active_json_round_trips_through_its_schema_and_a_wrong_type_is_refused(
    zero_model: Path, tmp_path: Path, real_replay: Path
) -> None:
    sim = tmp_path / "sim"
    args = ["--model", str(zero_model), "--expert", "--roads", "1", "--road-m", "250"]
    assert main([*args, *SMALL_ARGS, "--no-bags", "--no-progress", "--out", str(sim)]) == 0
    raw = json.loads((sim / "active.json").read_text())
    doc = Active.read(sim / "active.json")
    assert raw["schema"] == "ncp_driver/active" and raw["version"] == Active.VERSION
    assert doc.to_json() == raw  # every field the writer wrote is in the schema, and back
    assert {(r.model, r.noise_std) for r in doc.results} == {("zero", 0.0), ("expert", None)}
    raw["results"][0]["runs"][0]["takeovers"] = "3"
    (sim / "active.json").write_text(json.dumps(raw))
    with pytest.raises(SchemaError, match=r"results\[0\]\.runs\[0\]\.takeovers"):
        Active.read(sim / "active.json")
    with pytest.raises(ReportError, match=r"results\[0\]\.runs\[0\]\.takeovers"):
        write_report(real_replay, tmp_path / "r.html", sim_dir=sim)

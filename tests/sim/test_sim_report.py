"""The report's closed-loop section, from a real ncp-sim output directory."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from sim_helpers import SMALL_ARGS

from ncp_driver.audit.sample import SampleDrive, write_sample_replay
from ncp_driver.report import ReportError, write_report
from ncp_driver.sim.cli import main


def _images(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]


def test_the_report_gets_the_closed_loop_table_plot_and_tracks(
    zero_model: Path, tmp_path: Path
) -> None:
    sim = tmp_path / "sim"
    args = ["--model", str(zero_model), "--expert", "--roads", "1", "--road-m", "250"]
    assert main([*args, *SMALL_ARGS, "--no-bags", "--no-progress", "--out", str(sim)]) == 0
    replay_dir = write_sample_replay(tmp_path / "drive", SampleDrive(frames=120))
    plain = write_report(replay_dir, tmp_path / "plain.html").read_text()
    page = write_report(replay_dir, tmp_path / "report.html", sim_dir=sim).read_text()
    assert "Closed loop (ncp-sim)" in page and "Closed loop (ncp-sim)" not in plain
    assert "zero, noise 0" in page and "expert" in page and "per km (95 %" in page
    assert len(_images(page)) == len(_images(plain)) + 2  # the plot and the tracks
    assert all(png.startswith(b"\x89PNG") for png in _images(page))


def test_a_directory_without_results_is_refused_with_the_reason(tmp_path: Path) -> None:
    replay_dir = write_sample_replay(tmp_path / "drive", SampleDrive(frames=60))
    with pytest.raises(ReportError, match=r"active\.json"):
        write_report(replay_dir, tmp_path / "r.html", sim_dir=tmp_path / "nothing")
    assert not (tmp_path / "r.html").exists()

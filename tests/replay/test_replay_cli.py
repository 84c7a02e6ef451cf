"""``ncp-replay``: every file of the replay layout, Parquet beside CSV, --json, --param and noise."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from replay_helpers import COMMAND, CURVATURE, NEURONS

from ncp_driver.audit.replay import load_replay
from ncp_driver.bags import Recording
from ncp_driver.replay import cli
from ncp_driver.replay.layout import (
    MCAP_FILE,
    METRICS_FILE,
    NEURONS_FILE,
    OUTPUT_COLUMNS,
    OUTPUT_FILE,
    PLOT_FILE,
    SENSORY_FILE,
)

REQUIRED = {OUTPUT_FILE, NEURONS_FILE, SENSORY_FILE, METRICS_FILE, PLOT_FILE, MCAP_FILE}
PARQUET = {
    Path(name).with_suffix(".parquet").name for name in (OUTPUT_FILE, NEURONS_FILE, SENSORY_FILE)
}


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    return rows[0], rows[1:]


def test_cli_writes_the_layout_and_prints_json(
    ros2_bag: Path, replay_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "replay"
    code = cli.main(
        [
            str(ros2_bag), "--model", str(replay_model), "--out", str(out), "--json",
            "--format", "parquet", "--noise-std", "0.1", "--param", "max_curvature=0.045",
            "--no-progress",
        ]
    )  # fmt: skip
    stdout = capsys.readouterr().out
    assert code == 0
    assert {p.name for p in out.iterdir()} == REQUIRED | PARQUET

    # --json prints metrics.json, and nothing else.
    printed = json.loads(stdout)
    assert printed == json.loads((out / METRICS_FILE).read_text())
    frames = printed["frames"]
    assert frames == 180 and printed["human_label"] is True
    assert printed["mode"] == "frame by frame" and printed["kind"] == "ncp"  # the default
    assert set(printed["noise"]) == {"0.1"}
    assert printed["pipeline"]["limit_counts"].get("max_curvature", 0) > 0  # --param applied
    for mode in ("autonomous", "manual", "all"):
        assert printed[mode]["frames"] > 0 and math.isfinite(printed[mode]["mae"])

    header, rows = read_csv(out / OUTPUT_FILE)
    assert tuple(header) == OUTPUT_COLUMNS and len(rows) == frames
    neurons_header, neurons = read_csv(out / NEURONS_FILE)
    sensory_header, sensory = read_csv(out / SENSORY_FILE)
    assert neurons_header == ["stamp", *(f"n{k}" for k in range(19))] and len(neurons) == frames
    assert sensory_header == ["stamp", *(f"f{k}" for k in range(32))] and len(sensory) == frames
    assert (out / PLOT_FILE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Recording([out / MCAP_FILE]) as recording:
        counts = {name: info.msgcount for name, info in recording.topics.items()}
    assert counts[COMMAND] == counts[CURVATURE] == counts[NEURONS] == frames
    assert load_replay(out).frames == frames  # the audit reads the directory back

    # The Parquet tables hold what the CSVs hold.
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(out / "output.parquet").to_pydict()
    assert list(table) == list(OUTPUT_COLUMNS)
    for k, row in enumerate(rows):
        for name, text in zip(OUTPUT_COLUMNS, row, strict=True):
            value = table[name][k]
            if name in ("status", "limits_active", "reset_reason"):
                assert value == text
            elif name == "autonomous":
                assert value == (text == "1")
            else:
                assert value == (float(text) if text else None), name
    for name, csv_rows in (("neurons.parquet", neurons), ("sensory.parquet", sensory)):
        trace = pq.read_table(out / name).to_pydict()
        assert len(trace["stamp"]) == frames
        for column, values in trace.items():
            k = list(trace).index(column)
            assert values == pytest.approx([float(r[k]) for r in csv_rows], rel=1e-8), column


def test_cli_summary_without_mcap(
    ros2_bag: Path, replay_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "replay"
    args = [str(ros2_bag), "--model", str(replay_model), "--out", str(out), "--no-mcap"]
    code = cli.main([*args, "--batch-size", "1", "--no-progress", "--noise-std", "0.1"])
    stdout = capsys.readouterr().out
    assert code == 0
    # Per noise level, the autonomous figures first, each labelled (not just "all").
    assert "noise std 0.1: autonomous MAE " in stdout and "; all MAE " in stdout
    assert {p.name for p in out.iterdir()} == REQUIRED - {MCAP_FILE}
    assert "replayed 180 frames" in stdout and "frame by frame" in stdout
    assert "autonomous: MAE" in stdout and f"wrote {out}" in stdout


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--param", "wheelbase=2.9"], "NAME=VALUE"),
        (["--param", "max_curvature=wide"], "max_curvature"),
        (["--batch-size", "0"], "batch_size"),
    ],
)
def test_cli_refuses_bad_settings(
    ros2_bag: Path,
    replay_model: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    out = tmp_path / "replay"
    code = cli.main([str(ros2_bag), "--model", str(replay_model), "--out", str(out), *extra])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()

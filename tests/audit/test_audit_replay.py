"""Reading replay directories (written by the real ncp-replay and ncp-bag on a synthetic drive):
values, optional files, typed documents, and errors that name file and line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from ncp_driver.audit import ReplayFormatError, load_replay
from ncp_driver.audit.replay import METRICS_FILE, NEURONS_FILE, OUTPUT_FILE, SENSORY_FILE
from ncp_driver.models import default_model_path
from ncp_driver.schemas import Agreement, Discomfort, Metrics, Takeovers


@pytest.fixture
def sample(tmp_path: Path, real_replay: Path) -> Path:
    """A copy of the real replay that a test may damage."""
    return Path(shutil.copytree(real_replay, tmp_path / "replay"))


def test_reads_every_column_and_file(sample: Path) -> None:
    replay = load_replay(sample)
    assert replay.frames == 120  # 12 s at 10 Hz
    assert np.all(np.diff(replay.stamp) > 0)
    assert (
        replay.autonomous.dtype == bool and replay.autonomous.any() and not replay.autonomous.all()
    )
    assert set(replay.status) == {"ok"}
    assert replay.has_gps and replay.has_human and replay.has_speed
    assert replay.neurons is not None and replay.neurons.values.shape == (120, 19)
    assert replay.neurons.names[0] == "n0" and replay.neurons.names[-1] == "n18"
    assert replay.sensory is not None and replay.sensory.width == 32
    assert isinstance(replay.metrics, Metrics) and isinstance(replay.metrics.autonomous, Agreement)
    assert replay.metrics.autonomous.frames + replay.metrics.manual.frames == 120
    assert set(replay.metrics.noise) == {"0.1"}
    assert isinstance(replay.takeovers, Takeovers) and replay.takeovers.takeovers == 2
    assert [e.number for e in replay.takeovers.events] == [1, 2]
    assert isinstance(replay.discomfort, Discomfort)
    main = replay.discomfort.main_source()
    assert main is not None and main.a_lat_rms is not None and main.a_lat_rms > 0
    assert replay.model_path == default_model_path()
    engaged = np.flatnonzero(replay.reset_reason == "engage")
    assert engaged.size >= 1 and np.all(replay.autonomous[engaged])


def test_empty_cells_are_nan_and_limits_split(tmp_path: Path, bare_replay: Path) -> None:
    directory = Path(shutil.copytree(bare_replay, tmp_path / "r"))
    replay = load_replay(directory)
    assert not replay.has_gps and not replay.has_human
    assert np.all(np.isnan(replay.latitude)) and np.all(np.isnan(replay.human_curvature))
    lat, lon = replay.position_at(replay.stamp)
    assert np.all(np.isnan(lat)) and np.all(np.isnan(lon))
    text = (directory / OUTPUT_FILE).read_text().splitlines()
    fields = text[1].split(",")
    fields[7] = "curvature;steering_rate"
    text[1] = ",".join(fields)
    (directory / OUTPUT_FILE).write_text("\n".join(text) + "\n")
    assert load_replay(directory).limits_active[0] == ("curvature", "steering_rate")


def test_position_is_interpolated_between_fixes(sample: Path) -> None:
    replay = load_replay(sample)
    mid = 0.5 * (replay.stamp[10] + replay.stamp[11])
    lat, lon = replay.position_at(np.array([mid, replay.stamp[0] - 1.0]))
    assert lat[0] == pytest.approx(0.5 * (replay.latitude[10] + replay.latitude[11]))
    assert lon[0] == pytest.approx(0.5 * (replay.longitude[10] + replay.longitude[11]))
    assert np.isnan(lat[1])  # before the first fix


def test_mode_and_row_lookup(sample: Path) -> None:
    replay = load_replay(sample)
    rows = replay.at_stamps(np.array([replay.stamp[7], replay.stamp[7] + 0.05]))
    assert rows.tolist() == [7, -1]
    assert np.array_equal(replay.mode_at(replay.stamp + 0.01), replay.autonomous)


def test_missing_directory_and_files(tmp_path: Path, sample: Path) -> None:
    with pytest.raises(ReplayFormatError, match="does not exist"):
        load_replay(tmp_path / "nowhere")
    (sample / NEURONS_FILE).unlink()
    (sample / SENSORY_FILE).unlink()
    replay = load_replay(sample)
    assert replay.neurons is None and replay.sensory is None
    with pytest.raises(ReplayFormatError, match=r"no neurons\.csv"):
        replay.require_neurons()
    with pytest.raises(ReplayFormatError, match=r"no sensory\.csv"):
        replay.require_sensory()
    metrics = json.loads((sample / METRICS_FILE).read_text())
    (sample / METRICS_FILE).write_text(json.dumps({**metrics, "model": "gone.onnx"}))
    with pytest.raises(ReplayFormatError, match="does not exist"):
        load_replay(sample).require_model()
    (sample / METRICS_FILE).unlink()
    with pytest.raises(ReplayFormatError, match=r"metrics\.json is missing"):
        load_replay(sample)


def _edit_line(path: Path, line: int, column: int, value: str) -> None:
    lines = path.read_text().splitlines()
    cells = lines[line - 1].split(",")
    cells[column] = value
    lines[line - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("file", "line", "column", "value", "message"),
    [
        (OUTPUT_FILE, 4, 0, "", r"line 4: 'stamp' is empty"),
        (OUTPUT_FILE, 3, 2, "2", r"line 3: 'autonomous' must be 0 or 1"),
        (OUTPUT_FILE, 5, 3, "left", r"line 5: 'curvature' = 'left' is not a number"),
        (OUTPUT_FILE, 1, 11, "velocity", r"lacks the columns \['speed'\]"),
        (NEURONS_FILE, 1, 3, "n7", r"n0 \.\. n\{K-1\} in order"),
        (NEURONS_FILE, 6, 4, "x", r"line 6: 'n3' = 'x' is not a number"),
        (SENSORY_FILE, 1, 0, "time", r"first column must be 'stamp'"),
    ],
)
def test_malformed_files_name_file_and_line(
    sample: Path, file: str, line: int, column: int, value: str, message: str
) -> None:
    _edit_line(sample / file, line, column, value)
    with pytest.raises(ReplayFormatError, match=message) as info:
        load_replay(sample)
    assert file in str(info.value)


def test_ragged_rows_and_bad_json(sample: Path) -> None:
    lines = (sample / OUTPUT_FILE).read_text().splitlines()
    lines[9] += ",extra"
    (sample / OUTPUT_FILE).write_text("\n".join(lines) + "\n")
    with pytest.raises(ReplayFormatError, match="line 10 has 15 fields; the header has 14"):
        load_replay(sample)
    lines[9] = lines[9].removesuffix(",extra")
    (sample / OUTPUT_FILE).write_text("\n".join(lines) + "\n")
    (sample / "takeovers.json").write_text("{not json")
    with pytest.raises(ReplayFormatError, match=r"takeovers\.json is not a readable JSON file"):
        load_replay(sample)
    (sample / "takeovers.json").unlink()
    (sample / METRICS_FILE).write_text(json.dumps([1, 2]))
    with pytest.raises(ReplayFormatError, match="must hold a JSON object"):
        load_replay(sample)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("schema"), r"is not a metrics\.json document \(schema None"),
        (lambda d: d.update(version=99), r"version 99; this ncp_driver reads versions up to 1"),
        (
            lambda d: d["autonomous"].update(mae="low"),
            r"metrics\.json\.autonomous\.mae must be a number",
        ),
        (lambda d: d.pop("frames"), r"metrics\.json lacks the field 'frames'"),
        (
            lambda d: d["noise"]["0.1"]["all"].update(frames=1.5),
            r"noise\.0\.1\.all\.frames must be an integer",
        ),
    ],
)
def test_documents_are_checked_against_their_schema(
    sample: Path, edit: object, message: str
) -> None:
    doc = json.loads((sample / METRICS_FILE).read_text())
    edit(doc)  # type: ignore[operator]
    (sample / METRICS_FILE).write_text(json.dumps(doc))
    with pytest.raises(ReplayFormatError, match=message):
        load_replay(sample)


def test_documents_round_trip(real_replay: Path) -> None:
    """What the tools wrote parses, and writing the parsed document gives the same JSON."""
    for kind in (Metrics, Takeovers, Discomfort):
        raw = json.loads((real_replay / kind.FILE).read_text())
        assert raw["schema"] == kind.SCHEMA and raw["version"] == kind.VERSION
        assert kind.read(real_replay / kind.FILE).to_json() == raw

"""The replay on damaged input (issue 10) and through the car's admission step (issue 9)."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from ncp_driver.bags import BagWriter
from ncp_driver.models import default_model_path
from ncp_driver.replay.cli import main as replay_main
from ncp_driver.replay.engine import ReplayError, ReplaySettings, replay
from ncp_driver.synth.cli import main as synth

CAMERA = "/camera/image"


@pytest.fixture(scope="module")
def mcap_drive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mcap_drive") / "drive"
    args = ["--out", str(out), "--format", "ros2-mcap-folder", "--compressed", "--duration", "8"]
    args += ["--camera-hz", "10", "--size", "48x80", "--takeover-times", "6", "--no-progress"]
    assert synth(args) == 0
    return out


def swallow_first_chunk(bag: Path) -> None:
    """One message record's length made to cover the rest of its chunk (no error, lost data)."""
    from rosbags.rosbag2.storage_mcap import McapReader

    path = next(bag.glob("*.mcap"))
    reader = McapReader(path)
    reader.open()
    chunk = reader.chunks[0]
    reader.close()
    data = bytearray(path.read_bytes())
    start = chunk.chunk_start_offset + 9 + 8 + 8 + 8 + 4 + 4 + 8
    (length,) = struct.unpack_from("<Q", data, start - 8)
    at, seen = start, 0
    while seen < 10:
        (size,) = struct.unpack_from("<Q", data, at + 1)
        seen += data[at] == 0x05
        at += 9 + size
    struct.pack_into("<Q", data, at + 1, start + length - at - 9)
    path.write_bytes(bytes(data))


def test_a_damaged_bag_fails_the_replay_unless_partial_is_allowed(
    mcap_drive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag = tmp_path / "damaged"
    shutil.copytree(mcap_drive, bag)
    swallow_first_chunk(bag)
    code = replay_main([str(bag), "--out", str(tmp_path / "r1"), "--no-mcap", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and "damaged or cut short" in err and "lost" in err
    assert not (tmp_path / "r1").exists()
    code = replay_main(
        [str(bag), "--out", str(tmp_path / "r2"), "--allow-partial", "--no-progress"]
    )
    err = capsys.readouterr().err
    assert code == 0 and "PARTIAL INPUT" in err
    metrics = json.loads((tmp_path / "r2" / "metrics.json").read_text())
    assert metrics["input"]["complete"] is False
    assert "/camera/image_raw/compressed" in {x["topic"] for x in metrics["input"]["losses"]}


def test_an_intact_replay_says_its_input_was_complete(mcap_drive: Path, tmp_path: Path) -> None:
    result = replay([mcap_drive], ReplaySettings(model=default_model_path()))
    assert result.input_integrity["complete"] is True and result.frames == 80


def _bag(path: Path, frames: list[tuple[str, np.ndarray]]) -> Path:
    with BagWriter(path, "sqlite3") as writer:
        for i, (encoding, pixels) in enumerate(frames):
            stamp = 1_600_000_000_000_000_000 + i * 100_000_000
            height, width = pixels.shape[:2]
            msg = writer.message(
                "sensor_msgs/msg/Image",
                header=writer.message(
                    "std_msgs/msg/Header",
                    stamp=writer.message(
                        "builtin_interfaces/msg/Time",
                        sec=stamp // 10**9,
                        nanosec=stamp % 10**9,
                    ),
                ),
                height=height,
                width=width,
                encoding=encoding,
                step=pixels.nbytes // height,
                data=np.ascontiguousarray(pixels).reshape(-1),
            )
            writer.write(CAMERA, "sensor_msgs/msg/Image", stamp, msg)
    return path


def _frame(height: int, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_the_replay_applies_the_cars_frame_size_lock(tmp_path: Path) -> None:
    frames = [("rgb8", _frame(48, 80, i)) for i in range(6)]
    frames += [("rgb8", _frame(96, 160, 10 + i)) for i in range(3)]
    bag = _bag(tmp_path / "sizes", frames)
    result = replay([bag], ReplaySettings(model=default_model_path()))
    assert result.clean.status == ["ok"] * 6 + ["rejected"] * 3
    assert result.stats["frames_rejected"] == 3


def test_a_replay_with_no_usable_frame_says_why(tmp_path: Path) -> None:
    mono = np.full((48, 80, 1), 100, np.uint8)
    bag = _bag(tmp_path / "mono", [("mono8", mono)] * 4)
    with pytest.raises(ReplayError, match="no frame decoded") as info:
        replay([bag], ReplaySettings(model=default_model_path()))
    assert "4 rejected" in str(info.value) and "mono8" in str(info.value)


def test_a_model_with_nan_weights_is_refused_before_the_replay(
    mcap_drive: Path, nan_default_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = nan_default_model
    out = tmp_path / "r"
    code = replay_main([str(mcap_drive), "--model", str(model), "--out", str(out)])
    err = capsys.readouterr().err
    assert code != 0 and "not finite" in err and "neurons.csv" not in err
    assert not out.exists()


def test_the_fleet_fails_a_replay_that_says_its_input_was_partial(
    mcap_drive: Path, tmp_path: Path, real_replay: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ncp-eval reads the replay's own signal, metrics.json's ``input.complete``."""
    from ncp_driver.audit.replay import load_replay
    from ncp_driver.fleet.evaluate import _partial_input

    bag = tmp_path / "damaged"
    shutil.copytree(mcap_drive, bag)
    swallow_first_chunk(bag)
    args = [str(bag), "--out", str(tmp_path / "r"), "--allow-partial", "--no-mcap"]
    assert replay_main([*args, "--no-progress"]) == 0
    capsys.readouterr()
    note = _partial_input({"candidate": load_replay(tmp_path / "r")})
    assert note is not None and note.startswith("candidate replay: input incomplete")
    assert "/camera/image_raw/compressed" in note and "lost" in note
    assert _partial_input({"candidate": load_replay(real_replay)}) is None

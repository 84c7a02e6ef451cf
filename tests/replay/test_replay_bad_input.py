"""Bad input: no camera topic, an existing output directory, an undecodable frame in the bag."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from replay_helpers import AUTO, CAMERA_COMPRESSED, DRIVE, GPS, STEERING, copy_bag

from ncp_driver.bags import TopicError
from ncp_driver.replay import cli
from ncp_driver.replay.engine import ReplayError, ReplaySettings, replay
from ncp_driver.replay.layout import OUTPUT_FILE
from ncp_driver.synth import Drive, write_ros2_bag

JUNK_FRAME = 40


def test_no_camera_topic_names_the_topics(
    ros2_bag: Path, replay_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag = copy_bag(ros2_bag, tmp_path / "no_camera", keep=[AUTO, STEERING, GPS])
    with pytest.raises((ReplayError, TopicError)) as caught:
        replay([bag], ReplaySettings(model=replay_model))
    text = str(caught.value)
    for topic in (AUTO, STEERING, GPS):
        assert topic in text
    assert "--camera" in text

    code = cli.main([str(bag), "--model", str(replay_model), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("ncp-replay: error:") and AUTO in err and GPS in err
    assert not (tmp_path / "out").exists()


def test_an_existing_output_needs_force(
    ros2_bag: Path, replay_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier work\n")
    args = [str(ros2_bag), "--model", str(replay_model), "--out", str(out), "--no-mcap"]

    assert cli.main([*args, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "exists" in err and "--force" in err
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]

    assert cli.main([*args, "--no-progress", "--force"]) == 0
    assert (out / OUTPUT_FILE).is_file()
    assert not (out / "keep.txt").exists()
    # Nothing left beside it: the new directory was assembled elsewhere and moved into place.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.fixture(scope="module")
def junk_frame_bag(drive: Drive, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """JPEG CompressedImage frames, one of which holds junk bytes instead of a JPEG."""
    root = tmp_path_factory.mktemp("junk")
    jpeg = write_ros2_bag(drive, root / "jpeg", compressed=True).path

    def junk(index: int, topic: str, message: Any) -> Any:
        if topic == CAMERA_COMPRESSED and index == JUNK_FRAME:
            message.data = np.frombuffer(b"\xff\xd8 this is not a JPEG " * 20, np.uint8).copy()
            return message
        return None

    return copy_bag(jpeg, root / "junk", edit=junk)


@pytest.mark.parametrize("batch_size", [64, 1])
def test_an_undecodable_frame_is_rejected_and_the_replay_goes_on(
    junk_frame_bag: Path, replay_model: Path, batch_size: int
) -> None:
    result = replay([junk_frame_bag], ReplaySettings(model=replay_model, batch_size=batch_size))
    log = result.clean
    frames = len(log)

    assert result.topics["camera"] == CAMERA_COMPRESSED
    assert result.skipped_messages == {}  # the message itself deserialised
    assert log.status[JUNK_FRAME] == "rejected"
    assert [i for i, s in enumerate(log.status) if s != "ok"] == [JUNK_FRAME]
    assert result.stats["frames_rejected"] == 1
    assert result.stats["frames_in"] == frames == DRIVE.frame_count
    assert result.stats["frames_processed"] == frames - 1
    assert np.isnan(log.curvature[JUNK_FRAME])
    assert JUNK_FRAME not in log.model_rows
    # The frames after it were stepped on: the next one saw two frame periods pass.
    assert np.isfinite(log.array("curvature")[JUNK_FRAME + 1 :]).all()
    assert log.elapsed_s[JUNK_FRAME + 1] == pytest.approx(2.0 / 15.0, abs=1e-6)

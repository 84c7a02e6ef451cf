"""``ncp-synth``: writes the requested format and reports the takeovers it wrote."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import pytest
from rosbags.highlevel import AnyReader

from ncp_driver.bags.typestore import make_typestore
from ncp_driver.synth.cli import main

SMALL = ["--duration", "12", "--size", "60x96", "--no-progress"]


def test_json_summary_matches_the_bag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "drive.mcap"
    code = main(
        ["--out", str(out), "--format", "ros2-mcap", "--takeover-times", "4,8.01", "--json", *SMALL]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["frames"] == 180 and summary["frame_size"] == [60, 96]
    assert summary["takeover_times_s"] == [4.0, 8.05]
    with AnyReader([out], default_typestore=make_typestore()) as reader:
        counts = {c.topic: c.msgcount for c in reader.connections}
    assert counts == summary["counts"]
    assert counts["/camera/image_raw"] == 180


def test_text_summary_and_h5(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "drive.h5"
    assert (
        main(["--out", str(out), "--format", "h5", "--preprocessed", "--takeovers", "1", *SMALL])
        == 0
    )
    text = capsys.readouterr().out
    assert "180 frames" in text and "takeovers: 1" in text and "stamp 15883344" in text
    with h5py.File(out, "r") as f:
        assert f["camera_front"].shape == (180, 78, 200, 3)


def test_errors_are_reported_not_raised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "drive.bag"
    assert main(["--out", str(out), "--format", "ros1", "--takeovers", "0", *SMALL]) == 0
    capsys.readouterr()
    assert main(["--out", str(out), "--format", "ros1", *SMALL]) == 2
    assert "exists already" in capsys.readouterr().err
    assert main(["--out", str(tmp_path / "x"), "--format", "ros1", "--takeovers", "9", *SMALL]) == 2
    assert "do not fit" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path / "y"), "--format", "ros1", "--size", "big"])


def test_short_drives_get_as_many_takeovers_as_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 12 s drive works without --takeovers 0 (the default scales to the duration)."""
    out = tmp_path / "short.h5"
    args = ["--out", str(out), "--format", "h5", "--duration", "12", "--size", "60x96"]
    assert main([*args, "--json", "--no-progress", "--preprocessed"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["takeovers"] == 1
    # --preprocessed: the summary gives the size of what the file holds, the crops.
    assert summary["frame_size"] == [78, 200] and summary["camera_frame_size"] == [60, 96]
    import h5py

    with h5py.File(out) as f:
        assert f["camera_front"].shape[1:3] == (78, 200)
    assert main([*args, "--force", "--no-progress", "--takeovers", "3"]) == 2
    assert "3 takeovers do not fit in a 12.0 s drive" in capsys.readouterr().err

"""One exit-code convention (ncp_driver.exitcodes): 1 a problem found, 2 a usage error; --json
says which."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ncp_driver import exitcodes
from ncp_driver.bags.cli import main as bag_main
from ncp_driver.replay.cli import main as replay_main
from ncp_driver.synth.cli import main as synth_main


def run(main, args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_a_missing_bag_is_a_usage_error_and_json_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.bag"
    code, doc, err = run(bag_main, ["info", str(missing), "--json", "--no-progress"], capsys)
    assert code == exitcodes.USAGE == 2
    assert doc["error"]["kind"] == "usage" and doc["error"]["exit_code"] == 2
    assert doc["error"]["type"] == "MissingBagError" and str(missing) in doc["error"]["message"]
    assert err.startswith("ncp-bag info: error:") and "does not exist" in err


def test_a_damaged_bag_is_a_problem_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = tmp_path / "damaged.bag"
    damaged.write_bytes(b"#ROSBAG V2.0\n" + b"\x00garbage" * 20)
    code, doc, _ = run(bag_main, ["info", str(damaged), "--json", "--no-progress"], capsys)
    assert code == exitcodes.PROBLEM == 1
    assert doc["error"]["kind"] == "problem" and doc["error"]["exit_code"] == 1


def test_every_console_script_states_the_convention(capsys: pytest.CaptureFixture[str]) -> None:
    for main in (bag_main, replay_main, synth_main):
        with pytest.raises(SystemExit) as done:
            main(["--help"])
        assert done.value.code == 0
        assert "Exit status: 0 ok; 1 the work found a problem" in " ".join(
            capsys.readouterr().out.split()
        )

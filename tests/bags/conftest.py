"""Fixtures of the bag-tool tests: the known scenario written in every format, the real bags."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bags_scenario import write_scenario

from ncp_driver.bags.cli import main

REAL_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"

# name -> (format, compression, file name)
FORMATS: dict[str, tuple[str, str | None, str]] = {
    "rosbag1-bz2": ("rosbag1", "bz2", "drive.bag"),
    "rosbag1-lz4": ("rosbag1", "lz4", "drive.bag"),
    "sqlite3": ("sqlite3", None, "drive"),
    "mcap": ("mcap", None, "drive.mcap"),
}


@pytest.fixture(scope="session")
def scenario_bags(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The scenario of ``bags_scenario`` in each format (written once per test session)."""
    root = tmp_path_factory.mktemp("scenario")
    bags = {}
    for name, (fmt, compression, filename) in FORMATS.items():
        (root / name).mkdir()
        bags[name] = write_scenario(root / name / filename, fmt, compression)
    return bags


@pytest.fixture(params=list(FORMATS))
def scenario_bag(request: pytest.FixtureRequest, scenario_bags: dict[str, Path]) -> Path:
    """The scenario, once per format."""
    return scenario_bags[request.param]


@pytest.fixture
def real_dir() -> Path:
    """The real recordings in ../shared/data/real (skips when a clone has no ../shared)."""
    if not REAL_DIR.is_dir():
        pytest.skip(f"real recordings not available: {REAL_DIR.resolve()} is absent")
    return REAL_DIR.resolve()


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run ``ncp-bag`` in-process: returns (exit status, stdout, stderr)."""

    def run(*args: str | Path) -> tuple[int, str, str]:
        code = main([str(a) for a in args] + ["--no-progress"])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def run_json(run_cli: Callable[..., tuple[int, str, str]]) -> Callable[..., Any]:
    """Run ``ncp-bag ... --json`` and parse its document (the command must succeed)."""

    def run(*args: str | Path) -> Any:
        code, out, err = run_cli(*args, "--json")
        assert code == 0, err
        return json.loads(out)

    return run

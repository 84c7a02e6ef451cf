"""The README's path from the demo to every other command works as written.

Blocks marked ``<!-- runnable -->`` are run with bash, unchanged, in a folder laid out like a
fresh clone after ``bash scripts/demo.sh``: the checkout's ``models/`` and ``analysis/``, a
``demo_output/`` made by ``ncp-demo`` on a small drive, and a ``.venv`` whose ``activate`` puts
this test's environment on PATH. Its ``pip`` records what it was asked (the environment
already has the ``train`` extra; installing the checkout again from a temporary folder would
replace the package under test).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SETUP = ["bash scripts/demo.sh", "bash scripts/test.sh"]


def runnable_blocks(text: str) -> list[str]:
    return re.findall(r"<!-- runnable -->\n```bash\n(.*?)```", text, flags=re.S)


def _commands(block: str) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in block.splitlines())
    return [line for line in lines if line]


def test_exactly_two_setup_commands_and_the_training_extra() -> None:
    text = README.read_text()
    first = re.search(r"## Two commands.*?```bash\n(.*?)```", text, flags=re.S)
    assert first is not None and _commands(first.group(1)) == SETUP
    assert "source .venv/bin/activate" in text
    blocks = runnable_blocks(text)
    assert len(blocks) == 2
    assert _commands(blocks[1])[0] == ".venv/bin/pip install -e '.[train]'"
    for script in ("demo.sh", "test.sh"):  # both end by saying how to reach the commands
        source = (ROOT / "scripts" / script).read_text()
        assert "trap venv_hint EXIT" in source
    assert "source $rel/bin/activate" in (ROOT / "scripts" / "_venv.sh").read_text()


@pytest.mark.slow
def test_the_runnable_blocks_work_after_the_demo(tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="the training block needs the train extra")
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "ncp-bag").exists():
        pytest.skip(f"the console scripts are not installed in {bin_dir}: pip install -e .")
    from ncp_driver.demo import main as demo

    clone = tmp_path / "clone"
    clone.mkdir()
    for name in ("models", "analysis"):
        (clone / name).symlink_to(ROOT / name)
    venv_bin = clone / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "activate").write_text(f'export PATH="{bin_dir}:$PATH"\n')
    asked = tmp_path / "pip-args"
    (venv_bin / "pip").write_text(f'#!/usr/bin/env bash\necho "$*" >> {asked}\n')
    (venv_bin / "pip").chmod(0o755)
    small = ["--duration", "12", "--size", "90x144"]
    assert demo(["--out", str(clone / "demo_output"), *small]) == 0

    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    for block in runnable_blocks(README.read_text()):
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, (
            f"{block}\nstdout:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )

    assert asked.read_text().split("\n")[0] == "install -e .[train]"
    for made in (
        "takeovers.png",
        "discomfort.png",
        "export",
        "replay/metrics.json",
        "replay/replay.mcap",
        "report.html",
        "drive.h5",
        "my_model.onnx",
        "my_replay/metrics.json",
    ):
        assert (clone / made).exists(), made
    assert '"0.2"' in (clone / "replay" / "metrics.json").read_text()
    assert "The recorded drive" in (clone / "report.html").read_text()

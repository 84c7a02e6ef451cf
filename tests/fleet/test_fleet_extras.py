"""Without the ``fleet`` extra (no Ray, no pyarrow): the local pool works, the tables are CSV, and
``--ray`` says what to install."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _without_ray_and_pyarrow(args: list[str]) -> subprocess.CompletedProcess[str]:
    """``ncp-eval ARGS`` in a fresh interpreter where ray and pyarrow cannot be imported."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('ray', 'pyarrow'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from ncp_driver.fleet.cli import main\n"
        f"sys.exit(main({args!r}))\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


def test_without_the_extra_the_local_pool_works_and_ray_says_what_to_install(
    drives_dir: Path, models: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    base = [str(drives_dir / "drive1"), "--candidate", str(models["same"]), "--reference",
            str(models["reference"]), "--out", str(out), "--no-progress"]  # fmt: skip
    done = _without_ray_and_pyarrow([*base, "--ray", "local"])
    assert done.returncode == 2
    assert "pip install 'ncp-driver[fleet]'" in done.stderr
    assert not out.exists()

    done = _without_ray_and_pyarrow(base)
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tables"]["frames"] == "frames.csv"
    assert "pyarrow is not installed" in summary["tables"]["note"]
    assert (out / "frames.csv").read_text().count("\n") == 61  # header + 60 frames
    assert not (out / "frames.parquet").exists()

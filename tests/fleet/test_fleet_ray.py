"""The same evaluation on a real local Ray instance (one per module, 2 CPUs) and on the local
process pool: identical summaries and per-frame tables, failures included."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fleet_helpers import comparable

from ncp_driver.fleet import EvalOptions, evaluate_fleet, find_drives, write_fleet

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_and_the_local_pool_give_identical_results(
    ray_instance: None, drives_dir: Path, models: dict[str, Path], tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    root = tmp_path / "drives"
    shutil.copytree(drives_dir, root)
    (root / "junk.mcap").write_bytes(b"junk" * 64)
    drives = find_drives([root])
    results = {}
    for backend in ("local", "ray"):
        out = tmp_path / backend
        options = EvalOptions(
            candidate=models["dark"],
            reference=models["reference"],
            jobs=2,
            ray="auto" if backend == "ray" else None,  # the running instance
        )
        result = evaluate_fleet(drives, options, out)
        write_fleet(result, out)
        results[backend] = (result, out)
    local, ray_run = results["local"][0].summary, results["ray"][0].summary
    assert ray_run["run"]["backend"] == "ray auto"
    assert ray.is_initialized()  # an instance it did not start is left running
    assert comparable(ray_run) == comparable(local)
    assert local["verdict"]["drives_failed"] == 1 and local["failures"][0]["name"] == "junk"
    assert local["worst_divergences"][0]["drive"] == "tunnel"
    tables = [pq.read_table(out / "frames.parquet") for _, out in results.values()]
    assert tables[0].equals(tables[1])
    # The replay directories the Ray tasks handed back are the local pool's, byte for byte.
    for drive in local["drives"]:
        for role, relative in drive.get("replays", {}).items():
            a, b = (out / relative for _, out in results.values())
            names = sorted(p.name for p in a.iterdir())
            assert names == sorted(p.name for p in b.iterdir()), role
            for name in names:
                if name.endswith(".csv"):
                    assert (a / name).read_bytes() == (b / name).read_bytes(), (role, name)


def test_a_ray_task_past_the_timeout_is_cancelled_and_reported(
    ray_instance: None, models: dict[str, Path], tmp_path: Path
) -> None:
    import os

    from ncp_driver.fleet.drives import DriveSpec

    fifo = tmp_path / "hang.mcap"
    os.mkfifo(fifo)  # reading it blocks for ever
    options = EvalOptions(candidate=models["same"], ray="auto", timeout_s=2.0)
    result = evaluate_fleet([DriveSpec("hang", fifo)], options, tmp_path / "out")
    assert [f["name"] for f in result.summary["failures"]] == ["hang"]
    assert "timed out after 2 s" in result.summary["failures"][0]["reason"]
    assert result.exit_code == 1  # nothing was evaluated

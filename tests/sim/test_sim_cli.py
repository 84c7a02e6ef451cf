"""``ncp-sim`` end to end: reproducible active.json, bags the bag tools agree with, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sim_helpers import SMALL_ARGS

from ncp_driver.bags.cli import main as bag_main
from ncp_driver.exitcodes import exit_code
from ncp_driver.replay.cli import main as replay_main
from ncp_driver.runtime import PipelineConfig, SteeringPipeline
from ncp_driver.sim.cli import main

ROADS = ["--roads", "2", "--road-m", "250", "--seed", "300", "--no-progress", *SMALL_ARGS]


def test_same_seeds_give_the_same_active_json_whatever_the_jobs(
    zero_model: Path, tmp_path: Path
) -> None:
    args = ["--model", str(zero_model), "--expert", "--noise-std", "0", "0.2", *ROADS]
    assert main([*args, "--out", str(tmp_path / "a"), "--jobs", "2"]) == 0
    assert main([*args, "--out", str(tmp_path / "b"), "--jobs", "1", "--no-bags"]) == 0
    a = json.loads((tmp_path / "a" / "active.json").read_text())
    b = json.loads((tmp_path / "b" / "active.json").read_text())
    for doc in (a, b):  # only the bag paths differ (b has none)
        for entry in doc["results"]:
            for run in entry["runs"]:
                run.pop("bag", None)
    assert a == b
    rows = {(e["model"], e["noise_std"]): e for e in a["results"]}
    assert set(rows) == {("zero", 0.0), ("zero", 0.2), ("expert", None)}
    assert rows[("expert", None)]["takeovers"] == 0
    assert rows[("zero", 0.0)]["takeovers"] > 0
    assert [r["seed"] for r in a["roads"]] == [300, 301]
    assert len(a["models"][0]["sha256"]) == 64
    lo, hi = rows[("zero", 0.0)]["takeovers_per_km_95"]
    assert lo < rows[("zero", 0.0)]["takeovers_per_km"] < hi
    assert (tmp_path / "a" / "active.png").stat().st_size > 1000


def test_the_bag_gives_the_same_takeovers_and_discomfort(
    zero_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sim"
    args = ["--model", str(zero_model), "--roads", "1", "--road-m", "400", "--no-progress"]
    assert main([*args, *SMALL_ARGS, "--out", str(out), "--bag-camera-every", "1"]) == 0
    capsys.readouterr()
    run = json.loads((out / "active.json").read_text())["results"][0]["runs"][0]
    bag = out / run["bag"]
    assert bag_main(["takeovers", str(bag), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["takeovers"] == run["takeovers"] > 0
    assert bag_main(["discomfort", str(bag), "--odom", "/odom", "--json"]) == 0
    comfort = json.loads(capsys.readouterr().out)
    odometry = next(s for s in comfort["sources"] if s["source"] == "odometry")
    assert odometry["a_lat_rms"] == pytest.approx(run["a_lat_rms"], rel=1e-3)
    assert odometry["jerk_max"] == pytest.approx(run["jerk_max"], rel=1e-3)
    replayed = tmp_path / "replay"
    assert replay_main([str(bag), "--model", str(zero_model), "--out", str(replayed)]) == 0
    metrics = json.loads((replayed / "metrics.json").read_text())
    assert metrics["frames"] == run["frames"] and metrics["statuses"] == {"ok": run["frames"]}
    capsys.readouterr()
    assert bag_main(["info", str(bag), "--json"]) == 0
    topics = {t["name"] for t in json.loads(capsys.readouterr().out)["topics"]}
    assert {
        "/camera/image_raw/compressed", "/gps/fix", "/vehicle/autonomous", "/vehicle/steering",
        "/odom", "/ncp/steering_cmd", "/ncp/curvature", "/ncp/neurons",
    } <= topics  # fmt: skip


def test_a_model_the_pipeline_refuses_is_refused_at_start_with_its_reason(
    no_contract_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(Exception) as refused:
        SteeringPipeline(PipelineConfig(model_path=str(no_contract_model)))
    out = tmp_path / "sim"
    # The status is the pipeline's for its error (1: a file that is not a usable model).
    status = exit_code(refused.value)
    assert status == 1
    assert main(["--model", str(no_contract_model), *ROADS, "--out", str(out)]) == status
    err = capsys.readouterr().err
    assert str(refused.value) in err
    assert not out.exists()


def test_bad_settings_are_usage_errors(zero_model: Path, tmp_path: Path) -> None:
    base = ["--model", str(zero_model), *ROADS, "--out", str(tmp_path / "x")]
    assert main([*base, "--hold", "0.2"]) == 2  # shorter than the takeover debounce
    assert main([*base, "--noise-std", "-1"]) == 2
    assert main([*base, "--compute-delay", "soon"]) == 2
    raw = ["--bag-camera", "raw", "--bag-camera-every", "1", "--road-m", "5000"]
    assert main([*base, *raw, "--size", "1208x1920"]) == 2  # frames that would not fit in memory
    assert main(["--model", str(tmp_path / "missing.onnx"), "--out", str(tmp_path / "y")]) == 2


def test_a_model_with_nan_weights_is_refused_before_any_drive(
    nan_default_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 10: the pipeline's start check (not warmup_runs) refuses it for ncp-sim too."""
    model = nan_default_model
    out = tmp_path / "sim"
    assert main(["--model", str(model), *ROADS, "--out", str(out)]) == 1
    assert "not finite" in capsys.readouterr().err
    assert not out.exists()

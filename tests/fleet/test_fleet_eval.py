"""ncp-eval on small synthetic drives with the local pool: the gate, the worst divergence, damaged
and hanging drives, the cache, and the per-drive outputs against ncp-replay's own."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from fleet_helpers import DARK_FRAMES, comparable

from ncp_driver.fleet import EvalOptions, Gate, evaluate_fleet, find_drives, write_fleet
from ncp_driver.fleet import cli as eval_cli
from ncp_driver.fleet.drives import DriveSpec
from ncp_driver.replay import cli as replay_cli
from ncp_driver.replay.layout import METRICS_FILE, NEURONS_FILE, OUTPUT_FILE, SENSORY_FILE
from ncp_driver.schemas import FleetSummary, SchemaError

HZ = 10.0


def _run(drives: list[DriveSpec], out: Path, candidate: Path, reference: Path | None, **kw: Any):  # type: ignore[no-untyped-def]
    options = EvalOptions(candidate=candidate, reference=reference, jobs=2, **kw)
    result = evaluate_fleet(drives, options, out)
    write_fleet(result, out)
    return result


def _summary(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "summary.json").read_text()))


@pytest.fixture(scope="module")
def identical(drives_dir: Path, models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("identical") / "out"
    code = eval_cli.main(
        [str(drives_dir), "--candidate", str(models["same"]), "--reference",
         str(models["reference"]), "--out", str(out), "--no-progress", "--max-p99-diff", "0"]
    )  # fmt: skip
    return code, out


def test_summary_json_round_trips_through_its_schema_and_a_wrong_type_is_refused(
    identical: tuple[int, Path],
) -> None:
    _, out = identical
    raw = _summary(out)
    doc = FleetSummary.read(out / "summary.json")
    assert raw["schema"] == "ncp_driver/fleet_summary" and raw["version"] == FleetSummary.VERSION
    assert doc.to_json() == raw  # every key the writer wrote is in the schema, and back
    assert doc.verdict.exit_code == 0 and doc.verdict.checks[0].check == "mae_regression"
    raw["verdict"]["checks"][1]["passed"] = "yes"
    with pytest.raises(SchemaError, match=r"verdict\.checks\[1\]\.passed must be a bool"):
        FleetSummary.from_json(raw)


def test_a_candidate_identical_to_the_reference_passes(identical: tuple[int, Path]) -> None:
    code, out = identical
    summary = _summary(out)
    assert code == 0
    verdict = summary["verdict"]
    assert verdict["passed"] and not verdict["regression"] and verdict["drives_evaluated"] == 4
    assert {c["check"]: c["passed"] for c in verdict["checks"]} == {
        "mae_regression": True,
        "p99_diff": True,
    }
    overall = summary["overall"]
    assert overall["frames"] == 4 * 60
    assert overall["difference"]["max"] == 0.0
    assert overall["neuron_difference"]["max"] == 0.0
    assert overall["candidate"] == overall["reference"]
    assert summary["neuron_comparison"].startswith("compared (ncp, 8 neurons)")
    assert summary["worst_divergences"] == []
    # Same file bytes, same hash: one replay per drive serves both roles.
    assert all(roles == ["candidate"] for roles in summary["run"]["replayed"].values())
    for drive in summary["drives"]:
        assert drive["status"] == "ok"
        assert drive["context"]["takeovers"] == 1  # the synthetic takeover at 4 s
        assert drive["context"]["autonomous_km"] > 0
        assert drive["candidate"]["manual"]["frames"] > 0
        assert drive["candidate"]["autonomous"]["frames"] > 0
    assert (out / "frames.parquet").is_file() and (out / "drives.parquet").is_file()
    page = (out / "report.html").read_text()
    assert "no worse" in page and "tunnel" in page
    assert summary["plot"] == "fleet.png" and (out / "fleet.png").stat().st_size > 1000


def test_the_tables_hold_every_frame_and_drive(identical: tuple[int, Path]) -> None:
    import pyarrow.parquet as pq

    _, out = identical
    frames = pq.read_table(out / "frames.parquet").to_pydict()
    assert len(frames["drive"]) == 240
    assert sorted(set(frames["drive"])) == ["drive1", "drive2", "drive3", "tunnel"]
    assert set(frames["difference"]) == {0.0}
    drives = pq.read_table(out / "drives.parquet").to_pydict()
    assert drives["name"] == ["drive1", "drive2", "drive3", "tunnel"]
    summary = _summary(out)
    assert drives["candidate_all_mae"] == [d["candidate"]["all"]["mae"] for d in summary["drives"]]


def test_a_perturbed_readout_fails_the_gate(
    drives_dir: Path, models: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = [str(drives_dir), "--candidate", str(models["biased"]), "--reference",
            str(models["reference"]), "--out", str(out), "--no-progress", "--json"]  # fmt: skip
    assert eval_cli.main(args) == 1
    printed = json.loads(capsys.readouterr().out)
    verdict = printed["verdict"]
    assert verdict["regression"] and not verdict["passed"] and verdict["drives_failed"] == 0
    failed = [c for c in verdict["checks"] if c["passed"] is False]
    assert [c["check"] for c in failed] == ["mae_regression"]
    diff = printed["overall"]["difference"]
    assert diff["median"] == pytest.approx(0.05, abs=1e-6)
    assert diff["share_over"] == 1.0
    # Loose enough, the same candidate passes: the thresholds are the options'.
    assert eval_cli.main([*args[:-1], "--max-mae-regression", "100%"]) == 0


def test_the_worst_divergence_points_at_the_dark_stretch(
    drives_dir: Path, models: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    drives = find_drives([drives_dir])
    result = _run(drives, out, models["dark"], models["reference"], gate=Gate(max_p99_diff=0.01))
    summary = _summary(out)
    assert result.exit_code == 1 and summary["verdict"]["regression"]
    worst = summary["worst_divergences"]
    assert len(worst) == 1  # the other drives have no dark frame: no difference at all
    top = worst[0]
    assert top["drive"] == "tunnel" and top["bag"] == str(drives_dir / "tunnel")
    assert (top["first_frame"], top["last_frame"]) == (DARK_FRAMES[0], DARK_FRAMES[-1])
    assert top["start_s"] == pytest.approx(DARK_FRAMES[0] / HZ, abs=1e-3)
    assert top["end_s"] == pytest.approx(DARK_FRAMES[-1] / HZ, abs=1e-3)
    assert top["peak_difference"] > 0.05
    assert (out / top["thumbnail"]).stat().st_size > 1000
    assert (out / top["plot"]).is_file()
    tunnel = next(d for d in summary["drives"] if d["name"] == "tunnel")
    assert tunnel["difference"]["share_over"] == pytest.approx(len(DARK_FRAMES) / 60)
    plain = next(d for d in summary["drives"] if d["name"] == "drive1")
    assert plain["difference"]["max"] == 0.0
    assert top["thumbnail"] in (out / "report.html").read_text()


@pytest.fixture
def with_damaged(drives_dir: Path, tmp_path: Path) -> Path:
    """The good drives and two damaged ones: a ROS 2 folder whose .db3 is junk, a junk .mcap."""
    root = tmp_path / "drives"
    shutil.copytree(drives_dir, root)
    broken = root / "broken"
    broken.mkdir()
    shutil.copy(drives_dir / "drive1" / "metadata.yaml", broken / "metadata.yaml")
    db3 = next((drives_dir / "drive1").glob("*.db3"))
    (broken / db3.name).write_bytes(b"this is not an sqlite database" * 100)
    (root / "junk.mcap").write_bytes(b"\x89MCAP0\r\n" + b"junk" * 50)
    return root


def test_a_damaged_bag_is_reported_and_the_rest_evaluated(
    with_damaged: Path, models: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    base = [str(with_damaged), "--candidate", str(models["same"]), "--reference",
            str(models["reference"]), "--out", str(out), "--no-progress"]  # fmt: skip
    assert eval_cli.main(base) == 0  # no regression; the failures are reported, not fatal
    summary = _summary(out)
    verdict = summary["verdict"]
    assert verdict["drives_evaluated"] == 4 and verdict["drives_failed"] == 2
    assert not verdict["regression"]
    failures = {f["name"]: f["reason"] for f in summary["failures"]}
    assert sorted(failures) == ["broken", "junk"]
    assert all(
        reason and ("broken" in r or "junk" in r) for r in failures.values() for reason in [r]
    )
    statuses = {d["name"]: d["status"] for d in summary["drives"]}
    assert statuses == {"broken": "failed", "drive1": "ok", "drive2": "ok", "drive3": "ok",
                        "junk": "failed", "tunnel": "ok"}  # fmt: skip
    assert "could not be evaluated" in " ".join(verdict["reasons"])
    assert eval_cli.main([*base, "--strict"]) == 1
    strict = _summary(out)["verdict"]
    assert strict["strict"] and not strict["regression"] and strict["exit_code"] == 1
    assert strict["drives_failed"] == 2


def test_a_hanging_drive_times_out_and_the_rest_are_evaluated(
    drives_dir: Path, models: dict[str, Path], tmp_path: Path
) -> None:
    fifo = tmp_path / "hang.mcap"
    os.mkfifo(fifo)  # a "bag" nobody writes: reading it blocks for ever
    # A generous limit: drive1 (60 frames) must finish within it even on a loaded machine.
    drives = [*find_drives([drives_dir / "drive1"]), DriveSpec("hang", fifo)]
    result = _run(drives, tmp_path / "out", models["same"], None, timeout_s=10.0)
    summary = result.summary
    assert [d["status"] for d in summary["drives"]] == ["ok", "failed"]
    assert "timed out after 10 s" in summary["failures"][0]["reason"]
    assert summary["verdict"]["result"].startswith("no reference")
    assert result.exit_code == 0


def test_a_rerun_uses_the_cache_and_a_new_candidate_replays_only_itself(
    drives_dir: Path, models: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    drives = find_drives([drives_dir])
    first = _run(drives, out, models["dark"], models["reference"])
    assert all(len(r) == 2 for r in first.summary["run"]["replayed"].values())
    entries = sorted((out / "cache" / "replays").iterdir())
    stamps = [(p / OUTPUT_FILE).stat().st_mtime_ns for p in entries]

    again = _run(drives, out, models["dark"], models["reference"])
    assert again.summary["run"]["replayed"] == {}
    assert again.summary["run"]["from_cache"] == [d.name for d in drives]
    assert comparable(again.summary) == comparable(first.summary)
    assert [(p / OUTPUT_FILE).stat().st_mtime_ns for p in entries] == stamps

    other = _run(drives, out, models["biased"], models["reference"])
    assert set(map(tuple, other.summary["run"]["replayed"].values())) == {("candidate",)}

    refreshed = _run(drives, out, models["dark"], models["reference"], refresh=True)
    assert all(len(r) == 2 for r in refreshed.summary["run"]["replayed"].values())
    assert comparable(refreshed.summary) == comparable(first.summary)


def test_each_drive_gets_the_outputs_of_ncp_replay(
    identical: tuple[int, Path], drives_dir: Path, models: dict[str, Path], tmp_path: Path
) -> None:
    _, out = identical
    summary = _summary(out)
    drive = next(d for d in summary["drives"] if d["name"] == "drive2")
    ours = out / drive["replays"]["reference"]
    theirs = tmp_path / "replay"
    code = replay_cli.main(
        [str(drives_dir / "drive2"), "--model", str(models["reference"]), "--out", str(theirs),
         "--no-mcap", "--no-progress"]
    )  # fmt: skip
    assert code == 0
    assert sorted(p.name for p in ours.iterdir()) == sorted(p.name for p in theirs.iterdir())
    for name in (OUTPUT_FILE, NEURONS_FILE, SENSORY_FILE):
        assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name
    a, b = (json.loads((d / METRICS_FILE).read_text()) for d in (ours, theirs))
    for doc in (a, b):
        for key in ("seconds", "frames_per_second", "model"):
            doc.pop(key)
    assert a == b


def test_usage_errors_exit_2_and_a_refused_model_1(
    drives_dir: Path, models: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "out")
    missing = str(tmp_path / "missing.onnx")
    assert eval_cli.main([str(drives_dir), "--candidate", missing, "--out", out]) == 2
    assert "missing.onnx does not exist" in capsys.readouterr().err
    nothing = str(tmp_path / "nothing")
    assert eval_cli.main([nothing, "--candidate", str(models["same"]), "--out", out]) == 2
    assert "does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    # A model the pipeline refuses is a problem found (the project's convention), not usage.
    assert eval_cli.main([str(drives_dir), "--candidate", str(bad), "--out", out]) == 1
    assert "bad.onnx" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        eval_cli.main([str(drives_dir), "--candidate", str(bad), "--out", out,
                       "--max-mae-regression", "five"])  # fmt: skip
    assert caught.value.code == 2


def test_a_manifest_gives_the_per_tag_breakdown_and_other_neurons_are_not_compared(
    drives_dir: Path, models: dict[str, Path], tmp_path: Path
) -> None:
    import onnx
    from runtime_models import ToyWeights, toy_model

    other = tmp_path / "six_neurons.onnx"
    onnx.save(toy_model(ToyWeights.make(state_size=6, seed=9)), str(other))
    manifest = tmp_path / "fleet.txt"
    manifest.write_text(
        f"{drives_dir / 'drive1'}  weather=rain road=urban\n"
        f"{drives_dir / 'drive2'}  weather=dry name=second\n"
        f"{drives_dir / 'drive3'}  weather=rain\n"
    )
    drives = find_drives([manifest])
    result = _run(drives, tmp_path / "out", other, models["reference"])
    summary = result.summary
    assert summary["neuron_comparison"].startswith("not compared: candidate ncp with 6 neurons")
    assert summary["overall"]["neuron_difference"] is None
    assert [d["name"] for d in summary["drives"]] == ["drive1", "second", "drive3"]
    tags = summary["tags"]
    assert sorted(tags) == ["road", "weather"]
    assert tags["weather"]["rain"]["names"] == ["drive1", "drive3"]
    assert tags["weather"]["rain"]["frames"] == 120 and tags["weather"]["dry"]["frames"] == 60
    assert tags["road"] == {"urban": tags["road"]["urban"]} and tags["road"]["urban"]["drives"] == 1
    # The pooled figure of a group is that of its frames together.
    by_name = {d["name"]: d for d in summary["drives"]}
    dry = tags["weather"]["dry"]
    assert dry["candidate"] == by_name["second"]["candidate"]
    page = (tmp_path / "out" / "report.html").read_text()
    assert "weather" in page and "rain" in page


def _with_junk_message(source: Path, target: Path, topic: str, index: int) -> Path:
    """A raw copy of ``source`` whose ``index``-th message on ``topic`` is bytes that do not
    deserialise (rosbags' own writer, no re-serialisation of the others)."""
    from rosbags.rosbag2 import Writer
    from rosbags.typesys import Stores

    from ncp_driver.bags import Recording, make_typestore

    store = make_typestore(store=Stores.ROS2_HUMBLE)
    with Recording([source]) as recording:
        topics = list(recording.topics)
        writer = Writer(target, version=9)
        with writer:
            conns = {
                t: writer.add_connection(t, recording.msgtype(t), typestore=store) for t in topics
            }
            seen = dict.fromkeys(topics, 0)
            for raw in recording.raw(topics):
                data = raw.data
                if raw.topic == topic and seen[topic] == index:
                    data = b"\x00\x01\x00\x00junk"
                seen[raw.topic] += 1
                writer.write(conns[raw.topic], raw.stamp_ns, data)
    return target


def test_a_drive_with_undecodable_messages_is_evaluated_and_marked_partial(
    drives_dir: Path, models: dict[str, Path], tmp_path: Path
) -> None:
    from fleet_helpers import CAMERA

    root = tmp_path / "drives"
    root.mkdir()
    shutil.copytree(drives_dir / "drive1", root / "drive1")
    _with_junk_message(drives_dir / "drive2", root / "drive2", CAMERA, 10)
    args = [str(root), "--candidate", str(models["same"]), "--reference",
            str(models["reference"]), "--out", str(tmp_path / "out"), "--no-progress"]  # fmt: skip
    assert eval_cli.main(args) == 0
    summary = _summary(tmp_path / "out")
    drive2 = next(d for d in summary["drives"] if d["name"] == "drive2")
    assert drive2["status"] == "partial"
    assert f"1 on {CAMERA}" in drive2["reason"]
    assert drive2["frames"] == 59
    assert summary["verdict"]["drives_partial"] == 1 and summary["verdict"]["drives_failed"] == 0
    assert summary["overall"]["frames"] == 119
    assert eval_cli.main([*args, "--strict"]) == 1


def test_the_closed_loop_hook_is_skipped_with_a_message_without_the_simulator(
    drives_dir: Path,
    models: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import importlib.util

    real = importlib.util.find_spec

    def without_sim(name: str, *args: Any) -> Any:
        return None if name == "ncp_driver.sim" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_sim)
    out = tmp_path / "out"
    args = [str(drives_dir / "drive3"), "--candidate", str(models["same"]), "--out", str(out),
            "--no-progress", "--sim-roads", "2"]  # fmt: skip
    assert eval_cli.main(args) == 0
    assert "closed loop skipped: the simulator" in capsys.readouterr().err
    closed = _summary(out)["closed_loop"]
    assert closed["roads"] == 2 and "not installed" in closed["skipped"]
    assert "not installed" in (out / "report.html").read_text()


def test_the_closed_loop_hook_runs_ncp_sim_on_both_models(
    drives_dir: Path, models: dict[str, Path], tmp_path: Path
) -> None:
    pytest.importorskip("ncp_driver.sim")
    out = tmp_path / "out"
    args = [str(drives_dir / "drive3"), "--candidate", str(models["biased"]), "--reference",
            str(models["reference"]), "--out", str(out), "--no-progress",
            "--max-mae-regression", "1000%", "--sim-roads", "1", "--sim-road-m", "150"]  # fmt: skip
    assert eval_cli.main(args) == 0  # closed-loop figures are context, not the verdict
    closed = _summary(out)["closed_loop"]
    assert "skipped" not in closed, closed.get("skipped")
    assert set(closed["figures"]) == {"candidate", "reference"}
    for figures in closed["figures"].values():
        assert figures["autonomous_km"] > 0 and figures["takeovers_per_km"] is not None
    assert (
        closed["active"]["schema"] == "ncp_driver/active"
        and (out / "sim" / "active.json").is_file()
    )
    assert "Closed loop" in (out / "report.html").read_text()

"""``ncp-compare`` end to end on two small exported models: the document, its agreement with
ncp-sim's library on the same settings, the feed-forward model's n/a, refusals and usage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from compare_helpers import SMALL, Compared, run_compare

from ncp_driver.compare import COMPARE_HTML, COMPARE_JSON
from ncp_driver.compare.passive import run_drive
from ncp_driver.replay.metrics import agreement
from ncp_driver.runtime import PipelineConfig
from ncp_driver.schemas import Active, Compare
from ncp_driver.sim import EXPERT, Driver, RunTask, SimSettings, open_driver, run_all, summarise
from ncp_driver.sim.cli import main as sim_main


def test_the_document_holds_every_part_for_every_model(compared: Compared) -> None:
    doc = Compare.read(compared.out / COMPARE_JSON)
    raw = json.loads((compared.out / COMPARE_JSON).read_text())
    assert raw["schema"] == "ncp_driver/compare" and raw["version"] == 1
    assert [m.name for m in doc.models] == ["ncp", "cnn"]
    assert [(d.seed, d.fold) for d in doc.drives] == [(210, 0), (211, 1)]
    for m in doc.models:
        assert m.errors == []
        assert m.passive is not None and len(m.passive.folds) == 2
        assert m.passive.mae.mean is not None and m.passive.mae.std is not None
        fold_mae = [f.mae for f in m.passive.folds]
        assert m.passive.mae.mean == pytest.approx(np.mean(fold_mae))
        assert m.passive.mae.std == pytest.approx(np.std(fold_mae))
        assert m.attention is not None and m.attention.levels == [0.2]
        assert m.attention.frames == 4 and 0 < (m.attention.ssim_mean[0] or 0) <= 1
        assert m.size.file_bytes > 0 and m.size.latency_ms_median is not None
        assert m.size.latency_runs == 5 and "session.run" in m.size.latency_what
        assert m.size.parameters_source == "ONNX initializers"  # no card beside these files
    ncp, cnn = doc.models
    assert ncp.size.synapses is not None and ncp.size.synapses > 0 and cnn.size.synapses is None
    assert ncp.smoothness is not None and ncp.smoothness.state_size == 19
    assert ncp.smoothness.frames == 8 and (ncp.smoothness.max_spectral_norm or 0) > 0
    assert ncp.smoothness.drive == "closed loop, road 300, noise 0"
    assert cnn.smoothness is None and cnn.smoothness_note.startswith("n/a")
    figures = {s.figure: s for s in doc.ranking}
    assert {"takeovers_per_km@0", "takeovers_per_km@0.2", "passive_mae", "ssim@0.2"} <= set(figures)
    assert figures["max_lipschitz"].best == ["ncp"]  # the only recurrent model
    best_mae = min(doc.models, key=lambda m: m.passive.mae.mean)  # type: ignore[union-attr]
    assert figures["passive_mae"].best == [best_mae.name]
    for name in ("compare.html", "compare.json", "active.png", "ssim.png", "passive.png"):
        assert (compared.out / name).stat().st_size > 0
    assert set(doc.timing_s) >= {"drives", "passive", "attention", "smoothness", "active"}
    assert "passive:" in compared.run.err and figures["passive_mae"].text in compared.run.out


def test_the_closed_loop_figures_are_ncp_sims_on_the_same_settings(
    compared: Compared, ncp_onnx: Path, cnn_onnx: Path
) -> None:
    doc = Compare.read(compared.out / COMPARE_JSON)
    assert doc.active is not None and doc.active_source == "driven"
    settings = SimSettings(**{**doc.settings["sim"], "noise_levels": (0.0, 0.2)})
    drivers = [
        open_driver(name, path, settings, PipelineConfig())
        for name, path in (("ncp", ncp_onnx), ("cnn", cnn_onnx))
    ]
    tasks = [RunTask(d, level, seed, None, None) for d in drivers
             for level in settings.noise_levels for seed in settings.road_seeds]  # fmt: skip
    tasks.append(RunTask(Driver(EXPERT, None, None, 0.0, None), None, settings.seed, None, None))
    results = run_all(tasks, settings, 1)
    got = {(r.model, r.noise_std): r for r in doc.active.results}
    assert len(got) == 5
    for task, result in zip(tasks, results, strict=True):
        direct = summarise([result["figures"]])
        mine = got[(task.driver.name, task.noise_std)]
        assert mine.takeovers == direct["takeovers"]
        assert mine.autonomous_km == pytest.approx(direct["autonomous_km"])
        assert mine.takeovers_per_km_95 == direct["takeovers_per_km_95"]


def test_the_passive_figures_are_the_pipelines_curvature_against_the_label(
    compared: Compared, ncp_onnx: Path, tmp_path: Path
) -> None:
    """Recomputed here from a drive made again from its seed with ncp-synth's library."""
    from ncp_driver.synth import DriveConfig, simulate_drive, write_training_h5

    doc = Compare.read(compared.out / COMPARE_JSON)
    drive = doc.drives[0]
    path = tmp_path / drive.name
    config = DriveConfig(seed=drive.seed or 0, duration_s=24, height=120, width=192, render_scale=1)
    write_training_h5(simulate_drive(config), path, preprocessed=True)
    run = run_drive(ncp_onnx, PipelineConfig(), (drive, path))
    m = agreement(run.predicted, run.label)
    fold = doc.models[0].passive.folds[drive.fold]  # type: ignore[union-attr]
    assert fold.drives == [drive.name] and fold.frames == m.frames == drive.frames
    assert fold.mae == pytest.approx(m.mae) and fold.corr == pytest.approx(m.corr)


def test_an_ncp_sim_output_is_read_instead_of_driving(
    compared: Compared, ncp_onnx: Path, cnn_onnx: Path, tmp_path: Path
) -> None:
    sim = tmp_path / "sim"
    common = ["--size", "120x192", "--render-scale", "1", "--compute-delay", "0.005"]
    args = ["--model", ncp_onnx, "--model", cnn_onnx, "--expert", "--roads", "1", "--road-m", "200"]
    code = sim_main([str(a) for a in [*args, "--noise-std", "0", "0.2", *common, "--out", sim,
                                      "--no-bags", "--no-progress", "--jobs", "1"]])  # fmt: skip
    assert code == 0
    run = run_compare(
        "--model", ncp_onnx, "--model", cnn_onnx, "--out", tmp_path / "c", "--sim", sim,
        *SMALL,
    )  # fmt: skip
    assert run.code == 0, run.err
    doc = Compare.read(tmp_path / "c" / COMPARE_JSON)
    driven = Compare.read(compared.out / COMPARE_JSON)
    assert doc.active_source == str(sim) and any("read from" in n for n in doc.notes)
    sim_doc = Active.read(sim / "active.json")
    assert doc.active is not None and driven.active is not None
    key = [(r.model, r.noise_std, r.takeovers, r.autonomous_km) for r in doc.active.results]
    assert key == [(r.model, r.noise_std, r.takeovers, r.autonomous_km) for r in sim_doc.results]
    assert sorted(key, key=str) == sorted(
        [(r.model, r.noise_std, r.takeovers, r.autonomous_km) for r in driven.active.results],
        key=str,
    )


def test_a_bad_model_exits_1_naming_it(nan_default_model: Path, tmp_path: Path) -> None:
    run = run_compare("--model", nan_default_model, "--out", tmp_path / "c", "--json", *SMALL)
    assert run.code == 1
    assert "nan" in run.err and str(nan_default_model) in run.err
    error = json.loads(run.out)["error"]
    assert error["exit_code"] == 1 and error["type"] == "ModelUnusableError"
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--model", "missing.onnx"], "no such file"),
        (["--folds", "1"], "at least 2"),
        (["--drives", "nowhere/"], "no such file or directory"),
        (["--noise-std", "-1"], "noise levels"),
        (["--jobs", "0"], "--jobs"),
        (["--sim", "nowhere/"], "active.json"),
        (["--drive-s", "5"], "--drive-s 5: 3 takeovers do not fit"),
    ],
)
def test_usage_errors_exit_2(ncp_onnx: Path, tmp_path: Path, args: list[str], says: str) -> None:
    model = [] if "--model" in args else ["--model", ncp_onnx]
    run = run_compare(*model, *SMALL, *args, "--out", tmp_path / "c")
    assert run.code == 2, run.err
    assert says in run.err
    assert not (tmp_path / "c").exists()


def test_an_existing_output_is_kept_without_force(ncp_onnx: Path, tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    run = run_compare("--model", ncp_onnx, "--out", tmp_path / "c", *SMALL)
    assert run.code == 2 and "--force" in run.err
    assert not (tmp_path / "c" / COMPARE_HTML).exists()


def test_given_drives_are_used_as_they_are_in_folds(ncp_onnx: Path, tmp_path: Path) -> None:
    """HDF5 drives in the paper's layout (here full 120 x 192 frames, not crops) from a folder."""
    from ncp_driver.synth import DriveConfig, simulate_drive, write_training_h5

    folder = tmp_path / "held_out"
    for seed in (400, 401, 402):
        config = DriveConfig(
            seed=seed, duration_s=12, height=120, width=192, render_scale=1, takeover_count=1
        )
        write_training_h5(simulate_drive(config), folder / f"d{seed}.h5")
    run = run_compare("--model", ncp_onnx, "--drives", folder, "--no-expert", *SMALL,
                      "--out", tmp_path / "c")  # fmt: skip
    assert run.code == 0, run.err
    doc = Compare.read(tmp_path / "c" / COMPARE_JSON)
    assert [(d.name, d.fold, d.seed) for d in doc.drives] == [
        ("d400.h5", 0, None), ("d401.h5", 1, None), ("d402.h5", 0, None),
    ]  # fmt: skip
    assert all(d.path and Path(d.path).parent == folder for d in doc.drives)
    passive = doc.models[0].passive
    assert passive is not None
    assert [f.drives for f in passive.folds] == [["d400.h5", "d402.h5"], ["d401.h5"]]
    assert [f.frames for f in passive.folds] == [doc.drives[0].frames * 2, doc.drives[1].frames]

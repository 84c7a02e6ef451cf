"""Cards for every kind: written from a real run, verified, and failing when a figure is wrong."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from modelcard_helpers import EPOCHS, LR, TinyRun

from ncp_driver import exitcodes
from ncp_driver.errors import CardSpecError
from ncp_driver.modelcard import main, verify, write
from ncp_driver.modelcard.page import NETWORKS, markdown
from ncp_driver.modelcard.spec import describe_data

pytestmark = pytest.mark.slow


def copy_card(run: TinyRun, folder: Path) -> Path:
    """The card and its model in a fresh folder, to change without touching the fixture's."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(run.model, folder / run.model.name)
    return Path(shutil.copy(run.card, folder / run.card.name))


def edit(card: Path, change: Any) -> None:
    doc = json.loads(card.read_text())
    change(doc)
    card.write_text(json.dumps(doc))


@pytest.mark.parametrize("kind", ["ncp", "cnn"])
def test_a_card_is_written_and_verifies(
    tiny_cards: dict[str, TinyRun], kind: str, tmp_path: Path
) -> None:
    run = tiny_cards[kind]
    doc = json.loads(run.card.read_text())
    heard: list[str] = []
    assert verify(run.card, work=tmp_path, log=heard.append) == []
    assert [line[:5] for line in heard[:4]] == ["[1/4]", "[2/4]", "[3/4]", "[4/4]"]
    assert not any("held-out" in line for line in heard)  # not without the flag

    # The kind's network, from the file and the checkpoint.
    assert doc["kind"] == kind and doc["parameters"] > 0
    assert doc["size_bytes"] == run.model.stat().st_size
    page = run.card.with_suffix("").with_suffix(".md").read_text()
    assert NETWORKS[kind] in page
    features = doc["replay"]["internals"]["features"]
    if kind == "ncp":
        assert doc["network"]["synapses"] == 252 and doc["network"]["state_size"] == 19
        tau = doc["replay"]["internals"]["time_constants"]
        assert tau["neurons"] == 19 and 0 < tau["min_s"] <= tau["median_s"] <= tau["max_s"]
        assert tau["frame_period_s"] == pytest.approx(1 / 15, rel=1e-3)
        assert "LTC time constants" in page and features["features"] == 32
    else:
        assert doc["network"]["synapses"] is None and doc["network"]["state_size"] == 0
        assert "time_constants" not in doc["replay"]["internals"]
        assert features["features"] == 1000  # cnn: its first dense layer
    assert len(features["nonzero_share"]) == features["features"]
    assert features["frames"] == doc["replay"]["metrics"]["all"]["frames"]
    assert features["dead"] == sum(s < 0.05 for s in features["nonzero_share"])

    # The run's commands, filled from its config, the departures, the time and the latency.
    training = doc["training"]
    assert f"--epochs {EPOCHS} --lr {LR} " in training["command"]
    assert training["command"] in page
    assert training["data"]["train"]["views_per_drive"] == 2
    assert training["data"]["train"]["files"] == 3
    assert "for s in 100; do ncp-synth --seed $s" in page
    # The validation drive comes out again bit for bit from the spec's command.
    assert doc["validation"]["regenerated_drives"] == {"drives": 1, "identical": 1, "unmatched": 0}
    assert "bit-identical to those trained with in 1 of 1 cases" in page
    for item in training["departures"]:
        assert f"**{item['what']}**: {item['why']}" in page
    assert "**1 epoch (paper: 200)**" in page and "**learning rate 0.001 (paper: 5e-4)**" in page
    log = run.card.parent / training["wall_time"]["log"]
    assert log.read_text().startswith("epoch,") and training["wall_time"]["epochs"] == 1
    assert training["wall_time"]["seconds"] > 0 and "on the test's machine" in page
    assert doc["latency"]["median_ms"] > 0 and "reported, not verified" in page
    assert "## Notes\n- A tiny model: its figures mean nothing." in page
    assert list(doc)[:4] == ["model", "sha256", "size_bytes", "kind"]

    # Which closed-loop set is verified, which only stated.
    assert "## Closed loop (`ncp-sim`, verified)" in page
    assert "## Closed loop on the held-out roads (stated, not verified by default)" in page
    assert "**not recomputed** by `modelcard verify` unless it is asked `--held-out`" in page
    held = doc["closed_loop_held_out"]["figures"]
    assert f"per 10 km (95 % interval {10 * held[0]['takeovers_per_km_95'][0]:.2f}-" in page
    assert [row["noise_std"] for row in held] == [0.0]
    assert all(len(row["takeovers_per_km_95"]) == 2 for row in held)


def test_a_tampered_figure_fails_verify_with_exit_1(
    tiny_cards: dict[str, TinyRun], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = copy_card(tiny_cards["ncp"], tmp_path / "models")

    def worse(doc: dict[str, Any]) -> None:
        doc["validation"]["mae_inverse_r"] *= 1.5
        doc["replay"]["internals"]["features"]["dead"] += 3

    edit(card, worse)
    assert main(["verify", str(card)]) == exitcodes.PROBLEM
    out = capsys.readouterr().out
    assert "the card does NOT reproduce" in out
    assert "validation MAE" in out and "internals features dead" in out


def test_the_held_out_set_is_recomputed_only_when_asked(
    tiny_cards: dict[str, TinyRun], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = copy_card(tiny_cards["cnn"], tmp_path / "models")

    def more_takeovers(doc: dict[str, Any]) -> None:
        for row in doc["closed_loop_held_out"]["figures"]:
            row["takeovers"] += 5

    edit(card, more_takeovers)
    assert main(["verify", str(card)]) == exitcodes.OK
    assert "held-out closed-loop figures the card states were NOT recomputed" in (
        capsys.readouterr().out
    )
    heard: list[str] = []
    assert verify(card, log=heard.append) == []  # the stated figures are not recomputed
    assert not any("held-out" in line for line in heard)
    heard.clear()
    problems = verify(card, log=heard.append, held_out=True)
    assert heard[4].startswith("[5/5] the held-out closed loop")
    assert problems and all(p.startswith("held-out closed loop noise 0.0:") for p in problems)


def test_a_card_without_the_new_blocks_still_verifies(
    tiny_cards: dict[str, TinyRun], tmp_path: Path
) -> None:
    card = copy_card(tiny_cards["ncp"], tmp_path / "models")

    def older(doc: dict[str, Any]) -> None:
        for key in ("network", "latency", "closed_loop_held_out"):
            del doc[key]
        for key in ("departures", "wall_time"):
            del doc["training"][key]
        del doc["replay"]["internals"]

    edit(card, older)
    assert verify(card) == []
    page = markdown(json.loads(card.read_text()))
    assert "made before departures from the paper's recipe were recorded" in page
    assert "held-out" not in page and "## Internals" not in page
    with pytest.raises(CardSpecError, match="no held-out closed-loop figures"):
        verify(card, held_out=True)


def test_a_card_whose_model_is_missing_is_a_usage_error(
    tiny_cards: dict[str, TinyRun], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = Path(shutil.copy(tiny_cards["cnn"].card, tmp_path / "cnn_synthetic.card.json"))
    assert main(["verify", str(card)]) == exitcodes.USAGE
    assert "cnn_synthetic.onnx, which is not there: rebuild it" in capsys.readouterr().err


def test_write_refuses_a_spec_that_does_not_describe_the_run(
    tiny_runs: dict[str, TinyRun], tmp_path: Path
) -> None:
    run = tiny_runs["cnn"]
    card = tmp_path / "card.json"
    unexplained = run.spec_copy()
    unexplained["training"]["departures"] = [
        d for d in unexplained["training"]["departures"] if d["field"] != "lr"
    ]
    with pytest.raises(CardSpecError, match=r"lr is 0\.001 \(the paper's recipe: 0\.0005\)"):
        write(run.checkpoint, run.model, card, unexplained)
    wrong_stride = run.spec_copy()
    wrong_stride["training"]["command"] += " --stride 8"
    with pytest.raises(CardSpecError, match=r"stride 8 .the checkpoint: 16."):
        write(run.checkpoint, run.model, card, wrong_stride)
    too_many_views = run.spec_copy()
    too_many_views["training"]["data"]["train"]["command"] += " --recovery-yaw 4"
    del too_many_views["training"]["data"]["train"]["views_per_drive"]
    with pytest.raises(CardSpecError, match=r"makes 9 files .* trained on 3"):
        write(run.checkpoint, run.model, card, too_many_views)
    assert not card.exists()


def test_write_refuses_a_checkpoint_the_model_was_not_exported_from(
    tiny_runs: dict[str, TinyRun], tmp_path: Path
) -> None:
    torch = pytest.importorskip("torch")
    run = tiny_runs["cnn"]
    saved = torch.load(run.checkpoint, map_location="cpu", weights_only=False)
    saved["metrics"]["epoch"] = 2
    other = run.checkpoint.with_name("epoch-0002.pt")
    torch.save(saved, other)
    try:
        with pytest.raises(CardSpecError, match=r"exported from epoch 1 .* is epoch 2"):
            write(other, run.model, tmp_path / "card.json", run.spec)
    finally:
        other.unlink()


def test_a_dagger_block_counts_its_runs_and_names_the_model_that_drove() -> None:
    from ncp_driver.modelcard.spec import training_files

    sha = "ab" * 32
    base = {
        "train": {"command": "ncp-synth --out d/sSEED.h5 --seed SEED --format h5", "seeds": [1, 2]},
        "val": {"command": "ncp-synth --out v/sSEED.h5 --seed SEED --format h5", "seeds": [3]},
    }
    command = "ncp-sim --model m.onnx --roads 3 --road-m 500 --seed 110 --noise-std 0 0.2 --out o"
    data = describe_data(
        {**base, "dagger": {"command": f"{command} --dagger d", "model_sha256": sha}}
    )
    assert data["dagger"]["road_seeds"] == [110, 111, 112]
    assert data["dagger"]["noise_levels"] == [0.0, 0.2] and data["dagger"]["files"] == 6
    assert training_files(data) == 2 + 6 and training_files(describe_data(base)) == 2
    # The card's page says where the on-policy drives came from, and gives their command.
    from ncp_driver.modelcard.page import _data

    text = _data({"training": {"data": data}})
    assert "On-policy drives (DAgger, docs/sim.md): 6 drives" in text
    assert "roads 110-112 (500 m each)" in text and "at input noise\n0, 0.2;" in text
    assert f"{command} --dagger d" in text and sha[:16] in text
    with pytest.raises(CardSpecError, match="must name one --model and a --dagger folder"):
        describe_data({**base, "dagger": {"command": command, "model_sha256": sha}})
    with pytest.raises(CardSpecError, match="model_sha256"):
        describe_data({**base, "dagger": {"command": f"{command} --dagger d"}})
    with pytest.raises(CardSpecError, match="must start with ncp-sim"):
        describe_data({**base, "dagger": {"command": "ncp-synth --dagger d", "model_sha256": sha}})


def test_the_committed_specs_state_the_recovery_recipe() -> None:
    """Every kind's spec parses with ncp-synth's parser: 8 drives with 8 views, 2 plain ones."""
    from ncp_driver.models import MODELS_DIR

    specs = sorted(MODELS_DIR.glob("*_synthetic.spec.json"))
    kinds = {path.name.split("_")[0] for path in specs}
    assert kinds == {"ncp", "cfc", "lstm", "gru", "ctrnn", "cnn"}
    for path in specs:
        spec = json.loads(path.read_text())
        data = describe_data(spec["training"]["data"])
        assert data["train"]["seeds"] == list(range(100, 108))
        assert data["train"]["views_per_drive"] == 8 and data["train"]["files"] == 72
        assert data["train"]["takeovers"] == 0 and data["val"]["views_per_drive"] == 0
        assert data["val"]["seeds"] == [200, 201]
        assert "{epochs}" in spec["training"]["command"] and "{lr}" in spec["training"]["command"]
        assert f"--kind {path.name.split('_')[0]} " in spec["training"]["command"]
        held_out = spec["closed_loop_held_out"]["settings"]
        assert held_out["roads"] * held_out["road_m"] >= 30_000  # issue 14: 30 km at least


def test_verify_needs_no_torch(tiny_cards: dict[str, TinyRun], tmp_path: Path) -> None:
    """The bags extra suffices: the card is verified in an interpreter where torch cannot load."""
    card = copy_card(tiny_cards["ncp"], tmp_path / "models")
    program = f"""
import sys
class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "ncps", "onnxscript"):
            raise ImportError(f"blocked: {{name}}")
        return None
sys.meta_path.insert(0, Blocked())
from ncp_driver.modelcard import main
sys.exit(main(["verify", {str(card)!r}]))
"""
    out = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False, timeout=600
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "every figure reproduces" in out.stdout and "tau min_s" in out.stdout

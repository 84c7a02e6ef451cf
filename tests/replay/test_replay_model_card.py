"""The default model's card: its figures come out again from the seeds it records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ncp_driver.modelcard import verify
from ncp_driver.models import MODELS_DIR, default_model_path

CARD = MODELS_DIR / "ncp_synthetic.card.json"


def test_the_card_describes_the_committed_model() -> None:
    doc = json.loads(CARD.read_text())
    assert MODELS_DIR / doc["model"] == default_model_path()
    assert "only ever seen SYNTHETIC roads" in doc["warning"]
    page = CARD.with_suffix("").with_suffix(".md").read_text()
    assert doc["sha256"] in page and "Warning" in page


@pytest.mark.slow
def test_the_card_figures_reproduce(tmp_path: Path) -> None:
    """Regenerates the validation and evaluation drives and recomputes every figure."""
    pytest.importorskip("torch", reason="the validation reader is in ncp_driver.training")
    heard: list[str] = []
    assert verify(CARD, work=tmp_path, log=heard.append) == []
    # Progress before the long steps, then every figure with the card's value and a verdict.
    doc = json.loads(CARD.read_text())
    steps = 4 if doc.get("closed_loop") else 3
    assert [line[:5] for line in heard[:steps]] == [f"[{k}/{steps}]" for k in range(1, steps + 1)]
    if doc["validation"].get("regenerated_drives"):  # a fact before the figures
        assert heard[steps].startswith("validation drives: ")
        heard = heard[:steps] + heard[steps + 1 :]
    assert heard[steps].startswith("figures (tolerance 1% relative")
    replay_rows = 1 + sum(len(m) for m in doc["replay"]["metrics"].values())
    rows = heard[steps + 1 : steps + 1 + replay_rows]
    assert all(row.endswith(" ok") and " card " in row for row in rows)
    assert rows[0].split()[:3] == ["validation", "MAE", "(1/m)"]
    rest = heard[steps + 1 + replay_rows :]
    if doc.get("closed_loop"):
        size = 1 + len(doc["closed_loop"]["figures"])
        loop, rest = rest[:size], rest[size:]
        assert loop[0].startswith("closed loop (takeovers within")
        assert all(row.endswith(" ok") for row in loop[1:])
    if doc["replay"].get("internals"):  # the same replay: features and time constants
        assert rest[0].startswith("internals on the replay drive")
        assert len(rest) > 1 and all(row.endswith(" ok") for row in rest[1:])
        assert any(row.split()[:2] == ["tau", "min_s"] for row in rest)
    else:
        assert rest == []


def test_the_card_states_departures_internals_and_training_time() -> None:
    """The committed card, amended compatibly: its departures, the run's time and its health."""
    doc = json.loads(CARD.read_text())
    page = CARD.with_suffix("").with_suffix(".md").read_text()
    departures = doc["training"]["departures"]
    assert {d["field"] for d in departures} >= {"epochs", "lr", "readout_init", "data"}
    assert "recovery views" in page  # the data departure: what the model was trained on
    assert all(f"**{d['what']}**: {d['why']}" in page for d in departures)
    log = MODELS_DIR / doc["training"]["wall_time"]["log"]
    seconds = [float(line.split(",")[-1]) for line in log.read_text().splitlines()[1:]]
    assert doc["training"]["wall_time"]["seconds"] == pytest.approx(sum(seconds), abs=0.1)
    features = doc["replay"]["internals"]["features"]
    assert features["features"] == len(features["nonzero_share"]) == 32
    assert features["dead"] == sum(s < 0.05 for s in features["nonzero_share"])
    tau = doc["replay"]["internals"]["time_constants"]
    assert tau["min_s"] <= tau["neuron_median_min_s"] <= tau["neuron_median_max_s"] <= tau["max_s"]
    assert "## Internals on the replay drive" in page and "reported, not verified" in page


def test_the_card_states_closed_loop_figures_and_their_tolerance() -> None:
    from ncp_driver.modelcard import closed_loop_problems

    doc = json.loads(CARD.read_text())
    stated = doc["closed_loop"]["figures"]
    assert [row["noise_std"] for row in stated] == [0.0, 0.1, 0.2, 0.25, 0.3]
    assert doc["closed_loop"]["settings"]["compute_s"] > 0  # fixed, not measured: reproducible
    page = CARD.with_suffix("").with_suffix(".md").read_text()
    assert "## Closed loop" in page and doc["closed_loop"]["command"] in page
    one_more = [{**row, "takeovers": row["takeovers"] + 1} for row in stated]
    assert closed_loop_problems(one_more, stated) == []  # a count may move by one
    two_more = [{**row, "takeovers": row["takeovers"] + 2} for row in stated]
    assert len(closed_loop_problems(two_more, stated)) == len(stated)
    farther = [{**row, "autonomous_km": row["autonomous_km"] * 1.1} for row in stated]
    assert len(closed_loop_problems(farther, stated)) == len(stated)

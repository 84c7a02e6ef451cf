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
    assert heard[steps].startswith("figures (tolerance 1% relative")
    replay_rows = 1 + sum(len(m) for m in doc["replay"]["metrics"].values())
    rows = heard[steps + 1 : steps + 1 + replay_rows]
    assert all(row.endswith(" ok") and " card " in row for row in rows)
    assert rows[0].split()[:3] == ["validation", "MAE", "(1/m)"]
    if doc.get("closed_loop"):
        loop = heard[steps + 1 + replay_rows :]
        assert loop[0].startswith("closed loop (takeovers within")
        assert len(loop) == 1 + len(doc["closed_loop"]["figures"])
        assert all(row.endswith(" ok") for row in loop[1:])


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

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
    assert [line[:5] for line in heard[:3]] == ["[1/3]", "[2/3]", "[3/3]"]
    assert heard[3].startswith("figures (tolerance 1% relative")
    rows = heard[4:]
    doc = json.loads(CARD.read_text())
    assert len(rows) == 1 + sum(len(m) for m in doc["replay"]["metrics"].values())
    assert all(row.endswith(" ok") and " card " in row for row in rows)
    assert rows[0].split()[:3] == ["validation", "MAE", "(1/m)"]

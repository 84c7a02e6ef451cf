"""The comparison page in a real headless Chromium (as the report's browser test), and a step
that fails for one model: recorded, shown, exit 1."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from compare_helpers import SMALL, Compared, run_compare

from ncp_driver.compare import COMPARE_HTML, COMPARE_JSON
from ncp_driver.compare.cli import cards_without_model, default_models
from ncp_driver.compare.size import model_size, read_card, training_note
from ncp_driver.runtime.model import load_contract
from ncp_driver.schemas import Compare

RUNTIME_TESTS = Path(__file__).resolve().parents[1] / "runtime"
if str(RUNTIME_TESTS) not in sys.path:
    sys.path.insert(0, str(RUNTIME_TESTS))

from runtime_models import save, toy_model  # noqa: E402


def test_the_page_renders_in_chromium(browser: Any, compared: Compared) -> None:
    doc = Compare.read(compared.out / COMPARE_JSON)
    browser.get_log("browser")  # drop whatever an earlier page left
    browser.get((compared.out / COMPARE_HTML).resolve().as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    assert browser.title == "Model comparison"
    figures = browser.execute_script(
        "return Array.from(document.querySelectorAll('figure')).map(f => {"
        "const i = f.querySelector('img'), c = f.querySelector('figcaption');"
        "return [i.complete, i.naturalWidth, i.alt, c ? c.innerText : ''];});"
    )
    assert len(figures) == 3 == len(browser.find_elements("tag name", "img"))
    for complete, width, alt, caption in figures:
        assert complete and width > 0, f"image {alt!r} did not decode"
        assert caption.startswith(f"{alt}.") and len(caption) > len(alt) + 30, caption
    sections = dict(
        browser.execute_script(
            "return Array.from(document.querySelectorAll('section[id]'))"
            ".map(s => [s.id, s.innerText]);"
        )
    )
    assert list(sections) == [
        "result", "table", "active", "passive", "attention", "smoothness", "size", "settings",
    ]  # fmt: skip
    for statement in doc.ranking:  # the result in words is the document's, computed
        assert statement.text in sections["result"]
    assert "not retrained per fold" in sections["passive"]
    assert "n/a: cnn is feed-forward" in sections["smoothness"]
    assert "expert" in sections["table"] and "ncp" in sections["table"]
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    shot = Path(tempfile.gettempdir()) / "ncp_compare_page.png"
    browser.set_window_size(1280, browser.execute_script("return document.body.scrollHeight"))
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 0


def test_a_step_that_fails_for_one_model_is_shown_and_exits_1(
    cnn_onnx: Path, tmp_path: Path
) -> None:
    """The toy steers from the mean colour: no conv layer, so no saliency; the rest runs."""
    toy = save(toy_model(), tmp_path / "toy.onnx")
    out = tmp_path / "c"
    run = run_compare("--model", toy, "--model", cnn_onnx, "--out", out, "--no-expert", *SMALL)
    assert run.code == 1
    doc = Compare.read(out / COMPARE_JSON)
    toy_row, cnn_row = doc.models
    assert toy_row.attention is None and toy_row.errors[0].startswith("attention:")
    assert toy_row.passive is not None and toy_row.smoothness is not None
    assert cnn_row.errors == [] and cnn_row.attention is not None
    assert doc.errors == [f"toy: {toy_row.errors[0]}"] and "FAILED toy: attention" in run.out
    assert "What failed" in (out / COMPARE_HTML).read_text()
    assert doc.active is not None and {r.model for r in doc.active.results} == {"toy", "cnn"}


def test_the_default_models_are_those_with_a_card_and_the_card_counts_parameters(
    ncp_onnx: Path, cnn_onnx: Path, tmp_path: Path
) -> None:
    import hashlib
    import shutil

    for path in (ncp_onnx, cnn_onnx):
        shutil.copy(path, tmp_path / path.name)
    sha = hashlib.sha256((tmp_path / "ncp.onnx").read_bytes()).hexdigest()
    card = {"model": "ncp.onnx", "sha256": sha, "parameters": 12345}
    (tmp_path / "ncp.card.json").write_text(json.dumps(card))
    (tmp_path / "big.card.json").write_text(json.dumps({"model": "big.onnx"}))
    assert default_models(tmp_path) == [tmp_path / "ncp.onnx"]
    assert cards_without_model(tmp_path) == [tmp_path / "big.card.json"]
    found = read_card(tmp_path / "ncp.onnx", sha)
    size = model_size(tmp_path / "ncp.onnx", load_contract(ncp_onnx), found, None)
    assert (size.parameters, size.parameters_source) == (12345, "model card")
    assert read_card(tmp_path / "ncp.onnx", "0" * 64) is None  # a card of another file


def test_the_page_says_how_many_training_seeds_stand_behind_each_model() -> None:
    card = {"training": {"seed": 7, "epochs": 6, "exported_epoch": {"epoch": 6.0}}}
    note = training_note([("ncp", card), ("other", None)])
    assert "one training seed per model" in note
    assert "ncp: seed 7, 6 epochs (exported epoch 6)" in note
    assert "other: no card, training unknown" in note

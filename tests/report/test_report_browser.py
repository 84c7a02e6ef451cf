"""The report in a real headless Chromium, on real tool output: it loads, every image decodes and
has a caption, the recording and the model are separate, no console errors."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from ncp_driver.report import write_report
from ncp_driver.report.audit import write_audit_report
from ncp_driver.schemas import Metrics, Takeovers


@pytest.mark.parametrize("variant", ["full", "bare"])
def test_report_renders_in_chromium(
    browser: Any, real_replay: Path, bare_replay: Path, tmp_path: Path, variant: str
) -> None:
    replay_dir = real_replay if variant == "full" else bare_replay
    if variant == "full":
        page = write_audit_report(replay_dir, tmp_path / "report.html", title="Browser check")
    else:
        page = write_report(replay_dir, tmp_path / "report.html", title="Browser check")
    browser.get_log("browser")  # drop whatever an earlier page left
    browser.get(page.resolve().as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    assert browser.title == "Browser check"
    figures = browser.execute_script(
        "return Array.from(document.querySelectorAll('figure')).map(f => {"
        "const i = f.querySelector('img'), c = f.querySelector('figcaption');"
        "return [i.complete, i.naturalWidth, i.alt, c ? c.innerText : ''];});"
    )
    assert len(figures) == len(browser.find_elements("tag name", "img"))
    assert len(figures) >= (8 if variant == "full" else 1)
    for complete, width, alt, caption in figures:
        assert complete and width > 0, f"image {alt!r} did not decode"
        assert caption.startswith(f"{alt}.") and len(caption) > len(alt) + 30, caption
    sections = browser.execute_script(
        "return Array.from(document.querySelectorAll('section[id]')).map(s => [s.id, s.innerText]);"
    )
    by_id = dict(sections)
    assert list(by_id)[:4] == ["recording", "model", "robustness", "closed-loop"]
    assert "Takeovers" in by_id["recording"] and "MAE" not in by_id["recording"]
    assert "open loop" in by_id["model"]
    text = browser.find_element("tag name", "body").text
    if variant == "full":
        takeovers = Takeovers.read(replay_dir / "takeovers.json")
        metrics = Metrics.read(replay_dir / "metrics.json")
        assert metrics.autonomous.mae is not None and takeovers.takeovers_per_hour is not None
        assert f"{takeovers.takeovers_per_hour:,.0f}" in by_id["recording"]
        assert f"{metrics.autonomous.mae:.4f} 1/m" in by_id["model"]
        assert "Where the model looks" not in text  # no frames were given for saliency
        assert "Analyses not run" in text
    else:
        assert "No GPS positions in this replay" in text
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    shot = Path(tempfile.gettempdir()) / f"ncp_report_{variant}.png"
    browser.set_window_size(1280, browser.execute_script("return document.body.scrollHeight"))
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 0

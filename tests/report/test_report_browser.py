"""The report in a real headless Chromium: it loads, every image decodes, no console errors."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from ncp_driver.audit.sample import SampleDrive, write_sample_replay
from ncp_driver.report import write_report


@pytest.mark.parametrize("gps", [True, False], ids=["full", "no-gps"])
def test_report_renders_in_chromium(browser: Any, tmp_path: Path, gps: bool) -> None:
    replay_dir = write_sample_replay(tmp_path / "drive", SampleDrive(frames=300, gps=gps))
    page = write_report(replay_dir, tmp_path / "report.html", title="Browser check")
    browser.get_log("browser")  # drop whatever an earlier page left
    browser.get(page.resolve().as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    assert browser.title == "Browser check"
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt]);"
    )
    assert len(images) == (3 if gps else 2)
    for complete, width, alt in images:
        assert complete and width > 0, f"image {alt!r} did not decode"
    text = browser.find_element("tag name", "body").text
    takeovers = json.loads((replay_dir / "takeovers.json").read_text())
    metrics = json.loads((replay_dir / "metrics.json").read_text())
    for needle in (
        "Key figures",
        "takeovers",
        f"{takeovers['takeovers_per_hour']:.3g}",
        f"{metrics['autonomous']['mae']:.4f} 1/m",
        f"{metrics['manual']['rmse']:.4f} 1/m",
        "a_lat RMS",
        "300",
    ):
        assert needle in text, f"{needle!r} is not on the page"
    if not gps:
        assert "No GPS positions in this replay" in text
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    shot = Path(tempfile.gettempdir()) / f"ncp_report_{'full' if gps else 'nogps'}.png"
    browser.set_window_size(1280, browser.execute_script("return document.body.scrollHeight"))
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 0

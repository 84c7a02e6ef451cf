"""Fixtures shared by the audit, report and compare tests: replay directories written by the
real tools, and a real headless Chromium for the pages.

A short synthetic drive (``ncp-synth``, small frames) goes through ``ncp-replay`` with the
committed default model (or a given one), and ``ncp-bag takeovers`` / ``ncp-bag discomfort``
write their ``--json`` documents into the replay directory, as the README tells a user to. No
file of a replay directory is written by hand.

The browser is skipped when Chromium or chromium-driver is missing on a developer's machine; in
CI (``CI=true``, as ``.ci/run`` and most CI services set it) a browser that cannot start fails
the run instead, so a page is never left unchecked silently.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ncp_driver import topics
from ncp_driver.models import default_model_path

# 12 s at 10 Hz (120 frames of 90 x 144), engaged at the start, two takeovers.
SYNTH_ARGS = [
    "--duration", "12", "--size", "90x144", "--camera-hz", "10", "--takeover-times", "5,9",
    "--compressed", "--seed", "3", "--no-progress",
]  # fmt: skip

ReplayFactory = Callable[..., Path]


def _run(main: Callable[[list[str]], int], args: Sequence[object]) -> str:
    """Run a console script's ``main`` in-process; its stdout; fails the test on a non-zero exit."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    assert code == 0, f"{main.__module__} {args} exited {code}: {err.getvalue()}"
    return out.getvalue()


def _without_topics(source: Path, target: Path, dropped: set[str]) -> Path:
    """A copy of the bag without ``dropped`` topics (a car without GPS, say)."""
    from ncp_driver.bags import Recording
    from ncp_driver.bags.writer import BagWriter

    with Recording([source]) as recording, BagWriter(target, "sqlite3") as out:
        kept = [name for name in recording.topics if name not in dropped]
        for message in recording.messages(kept):
            out.write(message.topic, message.msgtype, message.stamp_ns, message.message)
    return target


@pytest.fixture(scope="session")
def synth_bag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The short synthetic drive as a ROS 2 bag written by ``ncp-synth``."""
    from ncp_driver.synth.cli import main as synth

    bag = tmp_path_factory.mktemp("synth") / "drive"
    _run(synth, ["--out", bag, "--format", "ros2-sqlite3", *SYNTH_ARGS])
    return bag


@pytest.fixture(scope="session")
def replay_factory(tmp_path_factory: pytest.TempPathFactory, synth_bag: Path) -> ReplayFactory:
    """``make(name, model=None, gps=True, steering=True, noise=("0.1",), bag_json=True)``: a
    replay directory of the synthetic drive, made once per session and name."""
    from ncp_driver.bags.cli import main as bag_tool
    from ncp_driver.replay.cli import main as replay_tool

    made: dict[str, Path] = {}

    def make(
        name: str,
        *,
        model: Path | None = None,
        gps: bool = True,
        steering: bool = True,
        noise: Sequence[str] = ("0.1",),
        bag_json: bool = True,
    ) -> Path:
        if name in made:
            return made[name]
        root = tmp_path_factory.mktemp(f"replay-{name}")
        bag = synth_bag
        dropped = set()
        if not gps:
            dropped.add(topics.absolute(topics.GPS))
        if not steering:
            dropped.add(topics.absolute(topics.HUMAN_STEERING))
        if dropped:
            bag = _without_topics(synth_bag, root / "drive", dropped)
        out = root / "replay"
        args: list[object] = [bag, "--model", model or default_model_path(), "--out", out]
        args += ["--no-progress", "--mcap-saliency-hz", "0"]
        if noise:
            args += ["--noise-std", *noise]
        _run(replay_tool, args)
        if bag_json:
            takeovers = _run(bag_tool, ["takeovers", bag, "--json", "--no-progress"])
            (out / "takeovers.json").write_text(takeovers)
            if gps:
                plot = out / "discomfort.png"
                discomfort = _run(
                    bag_tool, ["discomfort", bag, "--json", "--no-progress", "--plot", plot]
                )
                (out / "discomfort.json").write_text(discomfort)
        made[name] = out
        return out

    return make


@pytest.fixture(scope="session")
def real_replay(replay_factory: ReplayFactory) -> Path:
    """The full replay: GPS, the human's steering, one noise level, the bag tools' JSON."""
    return replay_factory("full")


@pytest.fixture(scope="session")
def bare_replay(replay_factory: ReplayFactory) -> Path:
    """A replay of the drive without GPS and without the human's steering, no bag-tool JSON."""
    return replay_factory("bare", gps=False, steering=False, noise=(), bag_json=False)


@pytest.fixture(scope="session")
def nan_default_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default model with one large weight tensor set to NaN (issue 10's start check)."""
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    from ncp_driver.models import default_model_path

    proto = onnx.load(str(default_model_path()))
    for init in proto.graph.initializer:
        value = numpy_helper.to_array(init)
        if value.dtype == np.float32 and value.size > 100:
            init.CopyFrom(numpy_helper.from_array(np.full_like(value, np.nan), init.name))
            break
    path = tmp_path_factory.mktemp("nan_model") / "nan.onnx"
    onnx.save(proto, str(path))
    return path


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    """Skip locally; fail in CI."""
    if in_ci():
        pytest.fail(f"CI=true and the browser test cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        _unavailable(
            f"the browser test needs Debian's chromium and chromium-driver ({', '.join(missing)} "
            "missing): apt-get install chromium chromium-driver (scripts/test.sh does)"
        )
    try:
        from selenium import webdriver
    except ImportError:
        _unavailable("selenium is not installed: pip install -e '.[dev]'")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,2000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=shutil.which(CHROMEDRIVER) or CHROMEDRIVER)
    try:
        driver = webdriver.Chrome(options=options, service=service)
    except Exception as exc:  # selenium's WebDriverException and OS errors alike
        _unavailable(f"headless Chromium did not start: {exc}")
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()

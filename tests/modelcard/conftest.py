"""Fixtures of the model-card tests: a tiny model of each kind tested, trained once a session."""

from __future__ import annotations

import pytest
from modelcard_helpers import TinyRun, train_tiny


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TinyRun]:
    """A tiny ``ncp`` (a recurrent kind with a wiring and LTC time constants) and ``cnn``."""
    return {kind: train_tiny(kind, tmp_path_factory.mktemp(kind)) for kind in ("ncp", "cnn")}


@pytest.fixture(scope="session")
def tiny_cards(tiny_runs: dict[str, TinyRun]) -> dict[str, TinyRun]:
    """The tiny runs with their cards written (held-out closed loop included)."""
    from ncp_driver.modelcard import write

    for run in tiny_runs.values():
        write(run.checkpoint, run.model, run.card, run.spec, held_out=True)
    return tiny_runs

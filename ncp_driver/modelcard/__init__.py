"""Model cards: each committed model's figures, and the commands that reproduce them.

``models/<name>.card.json`` records what data the model saw (synthetic drives: the exact
``ncp-synth`` commands and seeds), the training command and seed, every departure from the
paper's recipe and why, the training time, the validation error, the replay metrics and the
model's internals on a seeded synthetic drive, closed-loop takeovers per km, the network, its
size, hash and latency. ``models/<name>.md`` is the same for people.

    python -m ncp_driver.modelcard verify models/ncp_synthetic.card.json

regenerates the validation drives and the evaluation drive from their seeds, recomputes the
validation error with onnxruntime (the training protocol's windows: 16 frames, state reset per
window, elapsed times from the stamps), replays the evaluation drive through the on-car
pipeline (metrics and internals), drives the short closed-loop road set, and compares each
figure with the card (the ``bags`` extra: no torch); ``--held-out`` also drives the larger
held-out road set. ``write`` makes the card after training (the ``train`` extra: it reads the
checkpoint). models/README.md has the commands for each kind.
"""

from __future__ import annotations

from ncp_driver.modelcard.card import (
    CardFigures,
    closed_loop_problems,
    evaluate,
    update_closed_loop,
    update_internals,
    update_latency,
    verify,
    write,
)
from ncp_driver.modelcard.cli import main
from ncp_driver.modelcard.figures import closed_loop_figures, latency, validation_error

__all__ = [
    "CardFigures",
    "closed_loop_figures",
    "closed_loop_problems",
    "evaluate",
    "latency",
    "main",
    "update_closed_loop",
    "update_internals",
    "update_latency",
    "validation_error",
    "verify",
    "write",
]

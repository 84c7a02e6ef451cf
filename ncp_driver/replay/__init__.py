"""Replay: a recorded drive through the on-car pipeline, with metrics against the human."""

from __future__ import annotations

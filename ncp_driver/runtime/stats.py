"""Cumulative figures of a pipeline, for diagnostics and the replay's report."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

__all__ = ["PipelineStats"]


@dataclass
class PipelineStats:
    """Counts since the pipeline was built. ``frames_in`` = processed + rejected + stale."""

    frames_in: int = 0  # frames handed to the pipeline
    frames_processed: int = 0  # frames the model ran on (ok + nonfinite)
    frames_dropped: int = 0  # frames missing from the stream (stamp gaps + note_dropped)
    frames_rejected: int = 0  # undecodable or bad frames, skipped
    rejections: dict[str, int] = field(default_factory=dict)  # why frames were rejected -> count
    frames_stale: int = 0  # frames older than the watchdog timeout on arrival, skipped
    nonfinite_outputs: int = 0  # frames whose outputs were not finite (no command, state reset)
    resets: dict[str, int] = field(default_factory=dict)  # reason -> count
    limit_counts: dict[str, int] = field(default_factory=dict)  # limit name -> commands changed
    provider: str = ""  # execution provider that runs the model ("cpu", "cuda", "tensorrt")
    model_hash: str = ""  # sha256 of the model file
    nominal_period_s: float | None = None  # the camera's period estimated from stamps

    @property
    def commands(self) -> int:
        """Frames that produced a command."""
        return self.frames_processed - self.nonfinite_outputs

    def snapshot(self) -> PipelineStats:
        """An independent copy (the dicts included)."""
        return copy.deepcopy(self)

"""Replay: a recorded drive through the on-car pipeline, with metrics against the human.

:func:`replay` runs the bag's camera stream through :class:`~ncp_driver.runtime.SteeringPipeline`
(the ROS 2 node's class); :func:`write_replay` writes the replay directory
(:mod:`ncp_driver.replay.layout`); ``ncp-replay`` is :mod:`ncp_driver.replay.cli`. Needs the
``bags`` extra.
"""

from __future__ import annotations

from ncp_driver.replay.engine import FrameLog, ReplayError, ReplayResult, ReplaySettings, replay
from ncp_driver.replay.outputs import metrics_document, write_replay

__all__ = [
    "FrameLog",
    "ReplayError",
    "ReplayResult",
    "ReplaySettings",
    "metrics_document",
    "replay",
    "write_replay",
]

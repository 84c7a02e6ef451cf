"""Shared pieces of the replay tests: the drive, bag copies with topics left out or damaged,
and the per-frame outputs of a replay as plain arrays.

Every bag here is real: written by the project's synthetic generator (``ncp_driver.synth``), or
copied message by message from one with rosbags' own writer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import numpy as np
from rosbags.rosbag2 import Writer
from rosbags.typesys import Stores

from ncp_driver import topics
from ncp_driver.bags import Recording, make_typestore
from ncp_driver.replay.engine import FrameLog
from ncp_driver.runtime import PipelineConfig
from ncp_driver.synth import DriveConfig

CAMERA = topics.absolute(topics.CAMERA_RAW)
CAMERA_COMPRESSED = topics.absolute(topics.CAMERA_COMPRESSED)
AUTO = topics.absolute(topics.AUTO_MODE)
STEERING = topics.absolute(topics.HUMAN_STEERING)
GPS = topics.absolute(topics.GPS)
COMMAND = topics.absolute(topics.COMMAND)
CURVATURE = topics.absolute(topics.CURVATURE)
NEURONS = topics.absolute(topics.NEURONS)

CAMERA_HZ = 15.0
TOLERANCE = 1e-5

# 180 frames of 302 x 480. Engage at 2 s, take over at 6 s, engage again at 9 s: each change
# falls on a camera frame's stamp (15 Hz and the flag's 20 Hz meet every 0.2 s), so the rule
# "the flag in force at a frame's record time" is exercised on ties.
DRIVE = DriveConfig(
    seed=3,
    duration_s=12.0,
    height=302,
    width=480,
    camera_hz=CAMERA_HZ,
    takeover_times_s=(6.0,),
    engage_times_s=(2.0, 9.0),
)
MODE_CHANGES_S = (2.0, 6.0, 9.0)

# Limits tight enough to bind on the test model's outputs (about -0.03 to -0.05 1/m, changing by
# up to ~0.005 1/m per frame), so the limiter's memory is part of every comparison. The
# lateral-acceleration limit stays off (the default), so the speed does not enter the commands.
LIMITS = PipelineConfig(max_curvature=0.045, max_curvature_rate=0.05)


def copy_bag(
    source: Path,
    target: Path,
    keep: Collection[str] | None = None,
    edit: Callable[[int, str, Any], Any] | None = None,
) -> Path:
    """Copy the ROS 2 bag ``source`` into a new sqlite3 bag ``target`` with rosbags' writer.

    ``keep``: the topics to copy (default all). ``edit(index, topic, message)`` may return a
    replacement message for the ``index``-th message of its topic (None keeps the original).
    """
    store = make_typestore(store=Stores.ROS2_HUMBLE)
    with Recording([source]) as recording:
        wanted = [t for t in recording.topics if keep is None or t in keep]
        types = {t: recording.msgtype(t) for t in wanted}
        writer = Writer(target, version=9)
        with writer:
            connections = {t: writer.add_connection(t, types[t], typestore=store) for t in wanted}
            seen = dict.fromkeys(wanted, 0)
            for raw in recording.raw(wanted):
                data: bytes | memoryview = raw.data
                if edit is not None:
                    message = store.deserialize_cdr(raw.data, raw.msgtype)
                    replacement = edit(seen[raw.topic], raw.topic, message)
                    if replacement is not None:
                        data = store.serialize_cdr(replacement, raw.msgtype)
                seen[raw.topic] += 1
                writer.write(connections[raw.topic], raw.stamp_ns, data)
    return target


def columns(log: FrameLog) -> dict[str, Any]:
    """Every per-frame output of one replay run as arrays (NaN where nothing was commanded)."""
    return {
        "stamp": log.array("stamp"),
        "status": list(log.status),
        "autonomous": list(log.autonomous),
        "curvature": log.array("curvature"),
        "raw_curvature": log.array("raw_curvature"),
        "steering_angle": log.array("steering_angle"),
        "elapsed_s": log.array("elapsed_s"),
        "limits_active": list(log.limits_active),
        "reset_reason": list(log.reset_reason),
        "model_rows": list(log.model_rows),
        "neurons": np.asarray(log.neurons, dtype=np.float64),
        "features": np.asarray(log.features, dtype=np.float64),
    }


def assert_same_outputs(a: dict[str, Any], b: dict[str, Any], tol: float = TOLERANCE) -> None:
    """Equal labels; numbers within ``tol`` (NaN where the other is NaN)."""
    assert a.keys() == b.keys()
    for name in a:
        x, y = a[name], b[name]
        if isinstance(x, list):
            assert x == y, name
        else:
            assert x.shape == y.shape, name
            np.testing.assert_allclose(x, y, rtol=0, atol=tol, equal_nan=True, err_msg=name)


def finite(values: list[float]) -> np.ndarray:
    return np.array([v for v in values if math.isfinite(v)])

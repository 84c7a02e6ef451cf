"""``trainset``: a drive file in the paper's HDF5 layout from a bag, ready for training.

Each camera frame gets the curvature driven at its record time (``inverse_r``, 1/m, positive
left) from one source:

- ``steering``: the human's curvature (:mod:`ncp_driver.bags.labels`, the replay's definition
  too): ``tan(steering_angle) / wheelbase`` from AckermannDrive(Stamped), the front-wheel angle
  (divided by ``steering_wheel_ratio`` first when the car records a steering-wheel angle);
  speed from odometry if present, else the message's own ``speed`` field.
- ``odometry``: ``twist.angular.z / twist.linear.x``.
- ``imu``: the gyro rate about the vertical (see :mod:`ncp_driver.bags.motion`) divided by the
  speed from odometry, else from GPS.

A frame is kept when the label (and speed) sample nearest to it in time is at most
``max_skew_s`` away and the speed is at least ``min_speed`` (m/s); the others are counted by
reason. Frames are cropped and resized with the model's preprocessing unless ``full_frames``.
Stamps are record times in the bag (s).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver.bags.errors import BagError, TopicError
from ncp_driver.bags.frames import decode_frame
from ncp_driver.bags.labels import MAX_SKEW_S, RecordedSteering, nearest
from ncp_driver.bags.motion import MotionSettings, from_gps, vertical_rate
from ncp_driver.bags.output import check_new
from ncp_driver.bags.reader import Recording
from ncp_driver.bags.series import Series, load_roles, valid_fixes
from ncp_driver.bags.topics import find_topic
from ncp_driver.drives import DriveWriter
from ncp_driver.images import ImageDecodeError
from ncp_driver.preprocessing import PAPER_PREPROCESSING, Preprocessing

__all__ = [
    "LABEL_SOURCES",
    "Labels",
    "TrainsetSettings",
    "TrainsetSummary",
    "build_trainset",
    "curvature_labels",
]

LABEL_SOURCES = ("steering", "odometry", "imu")


@dataclass(frozen=True)
class TrainsetSettings:
    """The label source and the rules for keeping a frame."""

    source: str = "steering"
    wheelbase_m: float | None = None
    steering_wheel_ratio: float | None = None  # the recorded angle is a steering-wheel angle
    min_speed: float = 1.0
    max_skew_s: float = MAX_SKEW_S
    preprocessing: Preprocessing | None = PAPER_PREPROCESSING  # None: full frames


@dataclass(frozen=True)
class Labels:
    """Curvature (1/m) and speed (m/s, NaN where unknown) at the label source's stamps."""

    t: np.ndarray
    inverse_r: np.ndarray
    speed: np.ndarray
    description: str


@dataclass
class TrainsetSummary:
    """What ``trainset`` wrote; ``to_json()`` gives the ``--json`` document."""

    output: Path
    camera_topic: str
    label: str
    frames_in_bag: int
    kept: int
    left_out: dict[str, int] = field(default_factory=dict)
    skipped_messages: dict[str, int] = field(default_factory=dict)
    frame_shape: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "output": str(self.output),
            "camera_topic": self.camera_topic,
            "label": self.label,
            "frames_in_bag": self.frames_in_bag,
            "kept": self.kept,
            "left_out": self.left_out,
            "skipped_messages": self.skipped_messages,
            "frame_shape": list(self.frame_shape),
        }

    def table(self) -> str:
        lines = [
            f"wrote {self.output}: {self.kept} of {self.frames_in_bag} frames "
            f"({'x'.join(map(str, self.frame_shape))}) from {self.camera_topic}",
            f"label: {self.label}",
        ]
        lines += [f"left out {n} frame(s): {why}" for why, n in sorted(self.left_out.items())]
        lines += [
            f"skipped {n} message(s) on {t} that did not deserialise"
            for t, n in sorted(self.skipped_messages.items())
        ]
        return "\n".join(lines)


def curvature_labels(
    settings: TrainsetSettings,
    steering: Series | None,
    odometry: Series | None,
    imu: Series | None,
    gps: Series | None,
) -> Labels:
    """The label series of the chosen source (see the module docstring)."""
    skew = settings.max_skew_s
    if settings.source == "steering":
        if steering is None:
            raise TopicError("the steering label needs a steering topic")
        if not settings.wheelbase_m or settings.wheelbase_m <= 0:
            raise BagError("the steering label needs the car's wheelbase: pass --wheelbase METRES")
        definition = RecordedSteering(settings.wheelbase_m, settings.steering_wheel_ratio, skew)
        t = steering.stamp
        inverse_r = definition.curvature(steering["steering_angle"])
        if odometry is not None:
            speed = np.abs(nearest(odometry.stamp, odometry["vx"], t, skew))
            how = f"odometry {odometry.topic}"
        else:
            speed = np.abs(steering["speed"])
            how = "its speed field"
        return Labels(
            t,
            inverse_r,
            speed,
            f"{definition.describe(steering.topic)}; speed from {how}",
        )
    if settings.source == "odometry":
        if odometry is None:
            raise TopicError("the odometry label needs an odometry topic")
        vx = odometry["vx"]
        with np.errstate(divide="ignore", invalid="ignore"):
            inverse_r = np.where(np.abs(vx) > 1e-6, odometry["wz"] / vx, np.nan)
        return Labels(
            odometry.stamp,
            inverse_r,
            np.abs(vx),
            f"twist.angular.z / twist.linear.x from {odometry.topic}",
        )
    if settings.source == "imu":
        if imu is None:
            raise TopicError("the imu label needs an IMU topic")
        t = imu.stamp
        yaw = vertical_rate(
            np.column_stack([imu["wx"], imu["wy"], imu["wz"]]),
            np.column_stack([imu["ax"], imu["ay"], imu["az"]]),
        )
        if odometry is not None:
            speed = np.abs(nearest(odometry.stamp, odometry["vx"], t, skew))
            how = f"odometry {odometry.topic}"
        elif gps is not None:
            motion = from_gps(*valid_fixes(gps), MotionSettings())
            speed = nearest(motion.t, motion.speed, t, max(skew, motion.dt / 2))
            how = f"GPS {gps.topic}"
        else:
            raise TopicError("the imu label needs a speed: the bag has neither odometry nor GPS")
        with np.errstate(divide="ignore", invalid="ignore"):
            inverse_r = np.where(speed > 1e-6, yaw / speed, np.nan)
        return Labels(t, inverse_r, speed, f"vertical gyro rate of {imu.topic} / speed from {how}")
    raise BagError(f"label source {settings.source!r} is not one of {', '.join(LABEL_SOURCES)}")


def build_trainset(
    recording: Recording,
    out: Path,
    settings: TrainsetSettings,
    given: dict[str, str | None] | None = None,
    force: bool = False,
    progress: Callable[[Iterable[Any], int, str], Iterable[Any]] | None = None,
) -> TrainsetSummary:
    """Write one drive file from ``recording`` (two passes: labels, then frames)."""
    given = given or {}
    check_new([out], force)
    if settings.source not in LABEL_SOURCES:
        raise BagError(f"label source {settings.source!r} is not one of {', '.join(LABEL_SOURCES)}")
    topics = recording.topics
    source = recording.describe()
    camera = find_topic(topics, "camera", given.get("camera"), source)
    optional = {"steering": ["odometry"], "imu": ["odometry", "gps"]}.get(settings.source, [])
    by_role = load_roles(
        recording,
        given,
        [settings.source],
        optional,
        None if progress is None else (lambda it, n: progress(it, n, "labels")),
    )
    labels = curvature_labels(
        settings,
        by_role.get("steering"),
        by_role.get("odometry"),
        by_role.get("imu"),
        by_role.get("gps"),
    )

    left_out: Counter[str] = Counter()
    total = recording.count([camera])
    writer: DriveWriter | None = None
    shape: tuple[int, ...] = ()
    frames: Iterable[Any] = recording.messages([camera])
    if progress is not None:
        frames = progress(frames, total, "frames")
    try:
        for msg in frames:
            t = np.array([msg.stamp_ns * 1e-9])
            if np.isnan(nearest(labels.t, labels.t, t, settings.max_skew_s)[0]):
                left_out[f"no label sample within {settings.max_skew_s:g} s"] += 1
                continue
            speed = float(nearest(labels.t, labels.speed, t, settings.max_skew_s)[0])
            label = float(nearest(labels.t, labels.inverse_r, t, settings.max_skew_s)[0])
            if np.isnan(speed) and settings.min_speed > 0:
                left_out[f"no speed within {settings.max_skew_s:g} s"] += 1
                continue
            if speed < settings.min_speed:
                left_out[f"speed below {settings.min_speed:g} m/s"] += 1
                continue
            if np.isnan(label):
                left_out["curvature undefined (no speed)"] += 1
                continue
            try:
                frame = decode_frame(msg.message, settings.preprocessing)
            except ImageDecodeError:
                left_out["frame did not decode"] += 1
                continue
            if writer is None:
                shape = tuple(int(x) for x in frame.shape)
                writer = DriveWriter(out, (shape[0], shape[1], shape[2]), force=force)
            writer.append(frame, float(t[0]), label)
        if writer is None:
            reasons = ", ".join(f"{n} {why}" for why, n in left_out.items()) or "no frames"
            raise BagError(
                f"{source}: no frame could be labelled ({reasons}); check --max-skew, "
                "--min-speed and the label source"
            )
        writer.set_attrs(
            source_bags=[str(p) for p in recording.paths],
            camera_topic=camera,
            label=labels.description,
            label_source=settings.source,
            min_speed_mps=settings.min_speed,
            max_skew_s=settings.max_skew_s,
            timestamp_clock="bag record time",
            input_complete=not recording.losses,
            input_integrity=json.dumps(recording.integrity()),
            preprocessing="full frames"
            if settings.preprocessing is None
            else settings.preprocessing.to_json(),
        )
        kept = writer.count
        writer.close()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return TrainsetSummary(
        output=out,
        camera_topic=camera,
        label=labels.description,
        frames_in_bag=total,
        kept=kept,
        left_out=dict(left_out),
        skipped_messages=dict(recording.skipped),
        frame_shape=shape,
    )

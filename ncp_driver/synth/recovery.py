"""Recovery data: frames from beside and askew of the driven line, labelled to steer back.

A model trained only on a well-centred driver never sees the states its own errors lead to.
In the spirit of NVIDIA PilotNet's side cameras (Bojarski et al. 2016), a *recovery view*
shifts every pose of a drive sideways by ``offset_m`` (across the road, left positive) and
turns it by ``yaw_rad`` (left positive), renders the frame from that pose with the same
:meth:`Renderer.render_pose` the simulator (``ncp_driver.sim``) and the normal drives use, and
labels it with the curvature that brings the car back: the synthetic driver's pure-pursuit law
(:func:`ncp_driver.synth.vehicle.pure_pursuit`, its ``preview_s``) from that pose towards the
right lane's centre, clipped to the car's limit. The label is the command, without the
driver's reaction delay, steering lag, wander or noise.

Each view of a drive is one more drive in the paper's HDF5 layout (same stamps, same frame
count), so a recurrent model sees it as a coherent sequence. The shift is held for the whole
drive (a side camera): the car in the frames does not actually come back. That is the
limitation PilotNet's side cameras share; on-policy aggregation (DAgger: run the model in
closed loop, label the visited states with this law) is :mod:`ncp_driver.sim.dagger`.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ncp_driver.drives import FRAMES, DriveWriter
from ncp_driver.preprocessing import PAPER_PREPROCESSING, Preprocessing, crop_and_resize
from ncp_driver.synth.config import DriveConfig
from ncp_driver.synth.errors import SynthError
from ncp_driver.synth.render import Renderer
from ncp_driver.synth.road import Road
from ncp_driver.synth.simulate import Drive
from ncp_driver.synth.vehicle import MAX_CURVATURE, Pose, project_on_road, pure_pursuit
from ncp_driver.synth.writers import Written, _check_new, _progress, _renderer

__all__ = [
    "MAX_RECOVERY_OFFSET_M",
    "MAX_RECOVERY_YAW_RAD",
    "RecoveryView",
    "recovery_curvature",
    "recovery_path",
    "recovery_pose",
    "recovery_views",
    "write_recovery_h5",
]

MAX_RECOVERY_OFFSET_M = 1.5  # beyond this the camera leaves the lane on a 3.5 m lane
MAX_RECOVERY_YAW_RAD = math.radians(15.0)


@dataclass(frozen=True)
class RecoveryView:
    """A fixed displacement of every pose of a drive: sideways (m) and turned (rad), left +."""

    offset_m: float
    yaw_rad: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.offset_m) and abs(self.offset_m) <= MAX_RECOVERY_OFFSET_M):
            raise SynthError(
                f"recovery offset {self.offset_m} m must be finite and within "
                f"+-{MAX_RECOVERY_OFFSET_M} m (the car would be off its lane)"
            )
        if not (math.isfinite(self.yaw_rad) and abs(self.yaw_rad) <= MAX_RECOVERY_YAW_RAD):
            raise SynthError(
                f"recovery yaw {math.degrees(self.yaw_rad):.3g} deg must be finite and within "
                f"+-{math.degrees(MAX_RECOVERY_YAW_RAD):.0f} deg"
            )

    @property
    def name(self) -> str:
        """A file-name part, e.g. ``rec_o+0.60_y-3.0`` (yaw in degrees)."""
        return f"rec_o{self.offset_m:+.2f}_y{math.degrees(self.yaw_rad):+.1f}"


def recovery_views(offsets_m: Sequence[float], yaws_deg: Sequence[float]) -> list[RecoveryView]:
    """Every combination of an offset (or none) and a yaw (or none), except no displacement.

    Each value gives both signs (left and right, as PilotNet's two side cameras): offsets
    ``(0.5,)`` and yaws ``(3,)`` make eight views.
    """
    offsets = sorted({0.0, *(s * abs(float(o)) for o in offsets_m for s in (-1.0, 1.0))})
    yaws = sorted({0.0, *(s * abs(float(y)) for y in yaws_deg for s in (-1.0, 1.0))})
    return [
        RecoveryView(o, math.radians(y))
        for o, y in itertools.product(offsets, yaws)
        if (o, y) != (0.0, 0.0)
    ]


def recovery_pose(road: Road, pose: Pose, view: RecoveryView) -> Pose:
    """``pose`` moved ``view.offset_m`` across the road (at its foot) and turned ``view.yaw_rad``."""
    i = int(road.index(pose.road_s))
    h = float(road.heading[i])
    x = pose.x - math.sin(h) * view.offset_m
    y = pose.y + math.cos(h) * view.offset_m
    j, along, _ = project_on_road(road, x, y, i)
    return Pose(x, y, pose.heading + view.yaw_rad, float(road.s[j] + along))


def recovery_curvature(config: DriveConfig, road: Road, pose: Pose, speed: float) -> float:
    """The driver's pure-pursuit curvature from ``pose`` to the right lane's centre (clipped)."""
    kappa = pure_pursuit(
        road,
        pose.x,
        pose.y,
        pose.heading,
        speed,
        pose.road_s,
        -0.5 * config.lane_width_m,
        config.preview_s,
    )
    return min(max(kappa, -MAX_CURVATURE), MAX_CURVATURE)


def recovery_path(path: Path, view: RecoveryView) -> Path:
    """Where the view of the drive at ``path`` goes: beside it, ``STEM.rec_o+0.60_y+0.0.h5``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.{view.name}{path.suffix or '.h5'}")


def write_recovery_h5(
    drive: Drive,
    path: Path,
    view: RecoveryView,
    preprocessed: bool = False,
    spec: Preprocessing = PAPER_PREPROCESSING,
    force: bool = False,
    progress: bool = False,
    renderer: Renderer | None = None,
) -> Written:
    """Write the recovery ``view`` of ``drive`` in the paper's HDF5 layout.

    Frame ``i`` is rendered from the displaced pose of the drive's frame ``i`` at the frame's
    time (the same lighting and sensor noise as the normal frame); ``inverse_r`` is
    :func:`recovery_curvature` there. Attributes say the view and how the label was made.
    """
    path = Path(path)
    _check_new(path, force)
    cfg, road, cam = drive.config, drive.road, drive.camera
    if renderer is None and preprocessed:  # only the crop band's pixels (the same values)
        renderer = Renderer(drive, crop=spec)
    renderer = _renderer(drive, renderer)
    shape = spec.input_shape if preprocessed else (renderer.height, renderer.width, 3)
    with DriveWriter(path, shape, force=force) as writer:
        writer.set_attrs(
            source="ncp_driver.synth.recovery",
            synth_config=json.dumps(cfg.to_dict(), sort_keys=True),
            preprocessed=preprocessed,
            preprocessing=spec.to_json(),
            label="inverse_r: pure-pursuit curvature back to the right lane's centre from the "
            "displaced pose, 1/m, positive = left (REP 103)",
            recovery_offset_m=view.offset_m,
            recovery_yaw_rad=view.yaw_rad,
            takeover_stamps_ns=np.zeros(0, dtype=np.int64),
            takeover_stamps=np.zeros(0, dtype=np.float64),
        )
        with _progress(drive.frame_count, progress, f"recovery {view.name}") as bar:
            for i in range(drive.frame_count):
                base = Pose(
                    float(cam.x[i]), float(cam.y[i]), float(cam.heading[i]), float(cam.road_s[i])
                )
                pose = recovery_pose(road, base, view)
                t = float(cam.stamps_ns[i] - drive.start_ns) * 1e-9
                frame = renderer.render_pose(pose, t, i)
                if preprocessed:
                    frame = crop_and_resize(frame, spec)
                label = recovery_curvature(cfg, road, pose, float(cam.speed[i]))
                writer.append(frame, float(cam.stamps_ns[i]) * 1e-9, label)
                bar.update(1)
    return Written(path, {FRAMES: drive.frame_count})

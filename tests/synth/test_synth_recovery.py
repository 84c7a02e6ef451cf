"""Recovery drives: the label steers an offset or rotated car back; the frames are the
simulator's render of the displaced pose; ``ncp-synth`` writes them beside the drive."""

from __future__ import annotations

import json
import math
from pathlib import Path

import h5py
import numpy as np
import pytest

from ncp_driver.drives import open_drive
from ncp_driver.preprocessing import PAPER_PREPROCESSING, crop_and_resize
from ncp_driver.synth.cli import main
from ncp_driver.synth.config import DriveConfig
from ncp_driver.synth.errors import SynthError
from ncp_driver.synth.recovery import (
    RecoveryView,
    recovery_curvature,
    recovery_path,
    recovery_pose,
    recovery_views,
    write_recovery_h5,
)
from ncp_driver.synth.render import Renderer
from ncp_driver.synth.road import Road
from ncp_driver.synth.simulate import Drive, simulate_drive
from ncp_driver.synth.vehicle import START_S, Pose, Vehicle, bicycle_step, project_on_road

SUBSTEPS = 6  # bicycle steps per camera frame


@pytest.fixture(scope="module")
def drive() -> Drive:
    return simulate_drive(
        DriveConfig(seed=5, duration_s=12.0, takeover_count=0, height=120, width=192)
    )


def lane_errors(drive: Drive, pose: Pose, index: int) -> tuple[float, float, int]:
    """(m left of the right lane's centre, heading error in rad, road index) of ``pose``."""
    road = drive.road
    i, _, across = project_on_road(road, pose.x, pose.y, index)
    return across + 0.5 * drive.config.lane_width_m, pose.heading - float(road.heading[i]), i


def follow(drive: Drive, pose: Pose, speed: float, seconds: float, law: object) -> list[float]:
    """Drive from ``pose`` for ``seconds`` with ``law(frame, pose)`` held for one frame each;
    the (lateral error, heading error) at the end."""
    road: Road = drive.road
    dt = 1.0 / (drive.config.camera_hz * SUBSTEPS)
    x, y, h = pose.x, pose.y, pose.heading
    i = int(road.index(pose.road_s))
    for k in range(round(seconds * drive.config.camera_hz)):
        i, along, _ = project_on_road(road, x, y, i)
        here = Pose(x, y, h, float(road.s[i] + along))
        kappa = law(k, here)  # type: ignore[operator]
        for _ in range(SUBSTEPS):
            x, y, h = bicycle_step(x, y, h, speed, kappa, dt)
    i, along, _ = project_on_road(road, x, y, i)
    lateral, heading, _ = lane_errors(drive, Pose(x, y, h, float(road.s[i] + along)), i)
    return [lateral, heading]


VIEWS = [
    RecoveryView(0.8, 0.0),
    RecoveryView(-0.8, 0.0),
    RecoveryView(0.0, math.radians(6.0)),
    RecoveryView(0.0, math.radians(-6.0)),
    RecoveryView(0.6, math.radians(4.0)),  # left of the lane and pointing further left
    RecoveryView(-0.6, math.radians(-4.0)),
]


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.name)
def test_the_label_brings_an_offset_or_rotated_car_back(drive: Drive, view: RecoveryView) -> None:
    cam, road, cfg = drive.camera, drive.road, drive.config
    i0 = 30
    base = Pose(float(cam.x[i0]), float(cam.y[i0]), float(cam.heading[i0]), float(cam.road_s[i0]))
    pose = recovery_pose(road, base, view)
    speed = float(cam.speed[i0])
    lateral0, heading0, _ = lane_errors(drive, pose, int(road.index(pose.road_s)))
    base_lateral, base_heading, _ = lane_errors(drive, base, int(road.index(base.road_s)))
    # The displacement is what the view says.
    assert lateral0 - base_lateral == pytest.approx(view.offset_m, abs=0.02)
    assert heading0 - base_heading == pytest.approx(view.yaw_rad, abs=0.01)

    def recover(_: int, here: Pose) -> float:
        return recovery_curvature(cfg, road, here, speed)

    # The first label turns towards the lane: against the offset and the heading error.
    first = recover(0, pose)
    assert np.sign(first) == -np.sign(view.offset_m or view.yaw_rad)
    # Steered by the label frame after frame, both errors shrink within 3 s (to within 0.2 m
    # and 2 deg scaled, for the error a view leaves near zero).
    lateral, heading = follow(drive, pose, speed, 3.0, recover)
    assert abs(lateral) < 0.35 * max(abs(lateral0), 0.2)
    assert abs(heading) < 0.5 * max(abs(heading0), math.radians(2.0))

    # Replaying the centred drive's own labels instead keeps the car displaced.
    def replay(k: int, _: Pose) -> float:
        return float(cam.curvature[i0 + k])

    lateral_replayed, _ = follow(drive, pose, speed, 3.0, replay)
    assert abs(lateral_replayed) > abs(lateral) + 0.3


def test_frames_are_the_simulators_render_of_the_displaced_pose(
    drive: Drive, tmp_path: Path
) -> None:
    cfg, road = drive.config, drive.road
    view = RecoveryView(0.5, math.radians(-3.0))
    path = write_recovery_h5(drive, tmp_path / "r.h5", view).path
    # The simulator's car started beside the lane is at the displaced pose of the centred one.
    sim_car = Vehicle(cfg, road, offset_m=view.offset_m).state.pose
    centred = Vehicle(cfg, road).state.pose
    displaced = recovery_pose(road, centred, RecoveryView(view.offset_m, 0.0))
    assert (displaced.x, displaced.y, displaced.heading, displaced.road_s) == pytest.approx(
        (sim_car.x, sim_car.y, sim_car.heading, sim_car.road_s), abs=1e-9
    )
    assert centred.road_s == pytest.approx(START_S, abs=0.5)
    # The renderer as ncp_driver.sim builds it (a config and a road, no drive).
    full = Renderer(config=cfg, road=road)
    band = Renderer(config=cfg, road=road, crop=PAPER_PREPROCESSING)  # the sim's band_only
    cam = drive.camera
    assert open_drive(path).length == drive.frame_count  # a valid drive file
    with h5py.File(path) as f:
        frames = f["camera_front"][[0, 40, 90]]
        labels = f["inverse_r"][()].ravel()
    for row, i in enumerate([0, 40, 90]):
        base = Pose(float(cam.x[i]), float(cam.y[i]), float(cam.heading[i]), float(cam.road_s[i]))
        pose = recovery_pose(road, base, view)
        t = float(cam.stamps_ns[i] - drive.start_ns) * 1e-9
        expected = full.render_pose(pose, t, i)
        np.testing.assert_array_equal(frames[row], expected)  # exactly the same pixels
        np.testing.assert_array_equal(
            crop_and_resize(band.render_pose(pose, t, i), PAPER_PREPROCESSING),
            crop_and_resize(expected, PAPER_PREPROCESSING),
        )
        assert not np.array_equal(expected, full.render_pose(base, t, i))  # it was moved
        assert labels[i] == pytest.approx(recovery_curvature(cfg, road, pose, float(cam.speed[i])))


def test_views_cover_both_sides_and_reject_off_lane_poses() -> None:
    views = recovery_views([0.5], [3.0])
    assert len(views) == 8
    assert {(v.offset_m, round(math.degrees(v.yaw_rad), 6)) for v in views} == {
        (o, y) for o in (-0.5, 0.0, 0.5) for y in (-3.0, 0.0, 3.0)
    } - {(0.0, 0.0)}
    assert recovery_views([], []) == []
    with pytest.raises(SynthError, match="off its lane"):
        RecoveryView(2.5, 0.0)
    with pytest.raises(SynthError, match="yaw"):
        RecoveryView(0.0, math.radians(40.0))
    assert recovery_path(Path("d/x.h5"), RecoveryView(0.5, 0.0)) == Path("d/x.rec_o+0.50_y+0.0.h5")


def test_cli_writes_recovery_drives_beside_the_drive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "drive.h5"
    small = ["--duration", "3", "--takeovers", "0", "--size", "60x96", "--no-progress"]
    args = ["--out", str(out), "--format", "h5", "--preprocessed", "--recovery-offsets", "0.6"]
    assert main([*args, "--json", *small]) == 0
    summary = json.loads(capsys.readouterr().out)
    written = sorted(Path(r["out"]).name for r in summary["recovery"])
    assert written == ["drive.rec_o+0.60_y+0.0.h5", "drive.rec_o-0.60_y+0.0.h5"]
    normal = h5py.File(out)["inverse_r"][()].ravel()
    for name, sign in zip(written, (1.0, -1.0), strict=True):
        with h5py.File(tmp_path / name) as f:
            assert f["camera_front"].shape == (45, 78, 200, 3)
            assert f.attrs["recovery_offset_m"] == sign * 0.6
            # Left of the lane: steer more to the right than the centred driver did.
            assert np.mean(f["inverse_r"][()].ravel() - normal) * sign < 0
    assert main([*args, *small]) == 2  # the outputs exist
    assert "exists already" in capsys.readouterr().err
    bag = ["--out", str(tmp_path / "b"), "--format", "ros2-mcap", "--recovery-yaw", "3"]
    assert main([*bag, *small]) == 2
    assert "--format h5 only" in capsys.readouterr().err
    assert (
        main(["--out", str(tmp_path / "c.h5"), "--format", "h5", "--recovery-offsets", "3", *small])
        == 2
    )
    assert "off its lane" in capsys.readouterr().err

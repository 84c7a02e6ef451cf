"""On-policy aggregation (DAgger): a model's closed-loop run becomes a training drive whose
frames are what its pipeline received and whose labels steer back from the car's actual pose."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from sim_helpers import SMALL_ARGS, small_settings

from ncp_driver.bags.typestore import make_typestore
from ncp_driver.drives import FRAMES, INVERSE_R, TIMESTAMP, open_drive, sequence_windows
from ncp_driver.preprocessing import crop_and_resize
from ncp_driver.runtime import PipelineConfig, SteeringPipeline
from ncp_driver.sim import drive_closed_loop, make_world
from ncp_driver.sim.cli import main as sim_main
from ncp_driver.sim.dagger import DaggerWriter
from ncp_driver.sim.errors import SimError
from ncp_driver.synth.recovery import recovery_curvature
from ncp_driver.synth.vehicle import VehicleState


def _pipeline(path: Path) -> SteeringPipeline:
    return SteeringPipeline(PipelineConfig(model_path=str(path)))


def test_a_zero_steering_run_is_written_frame_for_frame_with_labels_that_steer_back(
    zero_model: Path, tmp_path: Path
) -> None:
    # The zero model leaves its lane on the curves: the run visits states far from the centre.
    settings = small_settings(road_m=400.0)
    world = make_world(settings, 300)
    pipe = _pipeline(zero_model)
    seen: list[tuple[int, VehicleState, np.ndarray]] = []
    path = tmp_path / "run.h5"
    with DaggerWriter(path, world, pipe.spec, {"model": "zero"}) as writer:

        def sink(stamp_ns: int, state: VehicleState, rgb: np.ndarray) -> None:
            seen.append((stamp_ns, state, rgb.copy()))
            writer(stamp_ns, state, rgb)

        run = drive_closed_loop(world, settings, pipe, 0.0, 0.005, make_typestore(), None, sink)
    assert run.takeover_s, "the zero model must leave its lane on this road"
    assert len(seen) == run.frame_count == len(run.frames.stamp_ns)
    with h5py.File(path, "r") as f:
        frames, stamps, labels = f[FRAMES][:], f[TIMESTAMP][:], f[INVERSE_R][:, 0]
        assert f.attrs["source"] == "ncp_driver.sim.dagger"
        assert json.loads(f.attrs["dagger_run"]) == {"model": "zero"}
    # The pipeline's own frames, in order, cropped as the model crops them.
    np.testing.assert_array_equal(stamps, np.asarray(run.frames.stamp_ns) * 1e-9)
    for i in (0, len(seen) // 2, len(seen) - 1):
        np.testing.assert_array_equal(frames[i], crop_and_resize(seen[i][2], pipe.spec))
    # The labels: the reference law from the car's actual pose, never the zero model's output.
    expected = [recovery_curvature(world.config, world.road, s.pose, s.speed) for _, s, _ in seen]
    np.testing.assert_allclose(labels, expected, rtol=1e-6, atol=1e-9)
    # Where the car is heading for 0.8 m or more off the lane's centre a preview ahead (left
    # positive), the label turns it back: more to the right than the road turns, or less.
    preview = [np.clip(world.config.preview_s * s.speed, 4.0, 30.0) for _, s, _ in seen]
    ahead = np.array(
        [s.lateral_error + s.heading_error * p for (_, s, _), p in zip(seen, preview, strict=True)]
    )
    road = world.road.curvature[world.road.index(np.array([s.pose.road_s for _, s, _ in seen]))]
    far = np.abs(ahead) > 0.8
    assert far.sum() > 10
    assert (np.sign(labels[far] - road[far]) == -np.sign(ahead[far])).all()
    # And it is a drive file training reads as any other.
    info = open_drive(path, pipe.spec)
    assert info.length == len(seen)
    assert len(sequence_windows(info.stamps, 16, 16)) == len(seen) // 16


def test_the_expert_has_no_frames_to_aggregate() -> None:
    settings = small_settings(road_m=100.0)
    with pytest.raises(SimError, match="the expert does not look at frames"):
        drive_closed_loop(
            make_world(settings, 300), settings, None, 0.0, 0.0, None, None, lambda *a: None
        )


def test_ncp_sim_dagger_writes_one_drive_per_model_run(toy_path: Path, tmp_path: Path) -> None:
    dagger = tmp_path / "dagger"

    def run(out: str) -> int:
        return sim_main([
            "--model", str(toy_path), "--expert", "--roads", "2", "--road-m", "80",
            "--seed", "500", "--noise-std", "0", "0.2", "--no-bags", "--jobs", "1",
            "--no-progress", "--out", str(tmp_path / out), "--dagger", str(dagger), *SMALL_ARGS,
        ])  # fmt: skip

    assert run("out") == 0
    names = sorted(p.name for p in dagger.iterdir())
    assert names == [
        "toy_n0.2_r500.h5", "toy_n0.2_r501.h5", "toy_n0_r500.h5", "toy_n0_r501.h5",
    ]  # fmt: skip
    # The noise is the model's input only: the noisy run's frames are clean renders (the
    # first frames, before the car engages, show the same road in both runs).
    with h5py.File(dagger / "toy_n0_r500.h5") as a, h5py.File(dagger / "toy_n0.2_r500.h5") as b:
        assert json.loads(b.attrs["dagger_run"])["noise_std"] == 0.2
        np.testing.assert_array_equal(a[FRAMES][:5], b[FRAMES][:5])
    frames = 0
    for name in names:
        with h5py.File(dagger / name) as f:
            frames += len(f[FRAMES])
    timing = json.loads((tmp_path / "out" / "timing.json").read_text())
    assert timing["dagger"] == {"dir": str(dagger), "drives": 4, "frames": frames}
    # An existing DAgger folder is not replaced without --force.
    assert run("out2") == 2
    assert not (tmp_path / "out2").exists()


def test_dagger_needs_a_model(tmp_path: Path) -> None:
    args = ["--expert", "--roads", "1", "--road-m", "50", "--no-bags", "--out",
            str(tmp_path / "o"), "--dagger", str(tmp_path / "d"), *SMALL_ARGS]  # fmt: skip
    assert sim_main(args) == 2
    assert not (tmp_path / "d").exists() and not (tmp_path / "o").exists()

"""On-policy aggregation (DAgger): the states a model's own driving visits, labelled to steer back.

Recovery views (:mod:`ncp_driver.synth.recovery`) show a car displaced by a fixed amount from
a centred drive. DAgger (Ross, Gordon and Bagnell 2011) instead runs the model in closed loop
and labels the states *it* reaches - its own drifts, late turn-ins, takeovers and the human's
recoveries after them - with the reference driver's law; training on the aggregate teaches
the model the states its errors lead to.

Here every camera frame of an ``ncp-sim`` run is written, as the pipeline received it
(rendered from the car's actual pose; without the run's input noise, which is the model's
input only), cropped and resized with the model's own preprocessing, and labelled with
:func:`~ncp_driver.synth.recovery.recovery_curvature` from the car's pose and speed at that
frame: the pure-pursuit curvature back to the right lane's centre, the recovery views' label.
Frames the human drove (before engaging, after a takeover) are kept too: they are states the
model's driving led to. One run is one drive file in the paper's HDF5 layout (stamps and
frames in order), so recurrent models train on it as on any drive.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver.drives import DriveWriter
from ncp_driver.preprocessing import Preprocessing, crop_and_resize
from ncp_driver.sim.loop import World
from ncp_driver.synth.recovery import recovery_curvature
from ncp_driver.synth.vehicle import VehicleState

__all__ = ["DaggerWriter", "dagger_file"]

LABEL = (
    "inverse_r: pure-pursuit curvature back to the right lane's centre from the car's pose "
    "in the closed-loop run, 1/m, positive = left (REP 103)"
)


def dagger_file(model: str, noise_std: float, road_seed: int) -> str:
    """The drive file of one run: ``ncp_n0.1_r1000.h5``."""
    return f"{model}_n{noise_std:g}_r{road_seed}.h5"


class DaggerWriter:
    """Called with every camera frame of one closed-loop run; a drive file when closed.

    Use as a context manager (``drive_closed_loop(..., on_frame=writer)`` inside it): on an
    exception the partial file is removed, as :class:`~ncp_driver.drives.DriveWriter` does.
    """

    def __init__(
        self, path: Path, world: World, spec: Preprocessing, source: dict[str, Any]
    ) -> None:
        self.world = world
        self.spec = spec
        self._writer = DriveWriter(Path(path), spec.input_shape)
        self._writer.set_attrs(
            source="ncp_driver.sim.dagger",
            synth_config=json.dumps(world.config.to_dict(), sort_keys=True),
            preprocessed=True,
            preprocessing=spec.to_json(),
            label=LABEL,
            dagger_run=json.dumps(source, sort_keys=True),
            takeover_stamps_ns=np.zeros(0, dtype=np.int64),
            takeover_stamps=np.zeros(0, dtype=np.float64),
        )

    def __call__(self, stamp_ns: int, state: VehicleState, rgb: np.ndarray) -> None:
        """One frame: the pixels the camera gave at ``state``, and the law's label there."""
        label = recovery_curvature(self.world.config, self.world.road, state.pose, state.speed)
        self._writer.append(crop_and_resize(rgb, self.spec), stamp_ns * 1e-9, label)

    def __enter__(self) -> DaggerWriter:
        self._writer.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._writer.__exit__(*exc)

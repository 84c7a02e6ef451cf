"""The active test without a car: a model drives a simulated car in closed loop (``ncp-sim``).

Each camera frame is rendered from the car's actual pose (:mod:`ncp_driver.synth`), wrapped as a
``sensor_msgs/Image`` and fed to the car's :class:`~ncp_driver.runtime.SteeringPipeline`; its
command steers the kinematic bicycle through an actuator (delay, lag); a virtual safety driver
takes over when the car leaves its lane; takeovers are counted by :mod:`ncp_driver.takeover` from
the auto-mode flag. See docs/sim.md. Needs the ``bags`` extra.
"""

from __future__ import annotations

from ncp_driver.sim.actuator import Actuator
from ncp_driver.sim.errors import SimError
from ncp_driver.sim.experiment import EXPERT, Driver, RunTask, open_driver, run_all
from ncp_driver.sim.figures import poisson_interval, run_figures, summarise
from ncp_driver.sim.loop import BagCamera, RunRecord, World, drive_closed_loop, make_world
from ncp_driver.sim.safety import SafetyDriver
from ncp_driver.sim.settings import DEFAULT_ROAD_SEED, SimSettings

__all__ = [
    "DEFAULT_ROAD_SEED",
    "EXPERT",
    "Actuator",
    "BagCamera",
    "Driver",
    "RunRecord",
    "RunTask",
    "SafetyDriver",
    "SimError",
    "SimSettings",
    "World",
    "drive_closed_loop",
    "make_world",
    "open_driver",
    "poisson_interval",
    "run_all",
    "run_figures",
    "summarise",
]

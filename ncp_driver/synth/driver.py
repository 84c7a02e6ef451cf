"""The synthetic human driver one step at a time (the driver of the synthetic drives).

Pure pursuit towards the point ``preview_s`` x speed ahead on the right lane's centre, shifted
by a slow lateral wander (Ornstein-Uhlenbeck, ``wander_m``, 4 s); the command reaches the car
after ``reaction_s``, through a first-order lag (``steering_lag_s``), plus fast steering noise
(OU, ``curvature_noise``, 0.3 s). The same model as :func:`ncp_driver.synth.simulate_drive`
(without the drift before scheduled takeovers), for a closed loop that does not know the
future.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from ncp_driver.synth.config import DriveConfig
from ncp_driver.synth.vehicle import Vehicle

__all__ = ["HumanDriver", "OrnsteinUhlenbeck"]


class OrnsteinUhlenbeck:
    """A stationary OU process (time constant ``tau``, standard deviation ``std``), stepwise."""

    def __init__(self, rng: np.random.Generator, dt: float, tau: float, std: float) -> None:
        self._rng = rng
        self._a = math.exp(-dt / tau)
        self._b = std * math.sqrt(1.0 - self._a * self._a)
        self.value = std * float(rng.standard_normal()) if std > 0 else 0.0
        self._std = std

    def step(self) -> float:
        if self._std > 0:
            self.value = self._a * self.value + self._b * float(self._rng.standard_normal())
        return self.value


class HumanDriver:
    """Steers a :class:`~ncp_driver.synth.vehicle.Vehicle` like the synthetic drives' driver.

    ``step`` is called once per simulation step of ``dt`` seconds and gives the curvature to
    drive during it. ``wander_scale`` scales the wander (the drives use 0.6 while the car drives
    itself, 1 while the human does).
    """

    def __init__(self, config: DriveConfig, rng: np.random.Generator, dt: float) -> None:
        self.config = config
        self._wander = OrnsteinUhlenbeck(rng, dt, 4.0, config.wander_m)
        self._noise = OrnsteinUhlenbeck(rng, dt, 0.3, config.curvature_noise)
        self._delay = round(config.reaction_s / dt)
        self._lag = min(1.0, dt / config.steering_lag_s)
        self._commands: deque[float] = deque([0.0] * (self._delay + 1), maxlen=self._delay + 1)
        self._kappa = 0.0

    def take_over(self, curvature: float) -> None:
        """Start from the curvature the car drives now (the hands on a turning wheel)."""
        self._kappa = curvature
        self._commands.extend([curvature] * (self._delay + 1))

    def step(self, vehicle: Vehicle, wander_scale: float = 1.0) -> float:
        """The curvature to drive for the next step (before the vehicle's own limit)."""
        wander = self._wander.step() * wander_scale
        noise = self._noise.step()
        self._commands.append(vehicle.pursue(wander, self.config.preview_s))
        applied = self._commands[0]
        self._kappa += (applied - self._kappa) * self._lag
        return self._kappa + noise

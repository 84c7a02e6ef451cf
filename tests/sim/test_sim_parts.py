"""The simulator's parts alone: the actuator's delay and lag, the rule, the Poisson interval."""

from __future__ import annotations

import math

import pytest

from ncp_driver.sim import Actuator, SafetyDriver, SimError, SimSettings, poisson_interval
from ncp_driver.synth.vehicle import Pose, VehicleState


def test_a_command_applies_after_the_delay_through_the_lag() -> None:
    actuator = Actuator(delay_s=0.1, lag_s=0.2)
    actuator.engage(0.0)
    actuator.command(0.0, 0.01)
    driven = [actuator.step(k * 0.01, 0.01) for k in range(60)]
    assert max(driven[:10]) == 0.0  # nothing before 0.1 s
    assert driven[10] > 0.0
    # First order: after one time constant past the delay, 1 - 1/e of the step.
    assert driven[10 + 19] == pytest.approx(0.01 * (1 - math.exp(-1.0)), rel=1e-9)
    actuator.engage(0.02)  # the driver hands over at 0.02: older commands are forgotten
    assert actuator.step(1.0, 0.01) == 0.02


def _state(offset: float, heading: float, t: float = 0.0) -> VehicleState:
    return VehicleState(t, Pose(0.0, 0.0, 0.0, 0.0), 10.0, 0.0, offset, heading, 0)


def test_the_vista_rule_and_the_hand_back() -> None:
    settings = SimSettings()
    rule = SafetyDriver(settings.offset_limit(3.5), settings.max_heading_error_rad, 3.0, 0.3)
    assert settings.offset_limit(3.5) == pytest.approx(0.85)
    assert not rule.takes_over(_state(0.84, 0.0)) and rule.takes_over(_state(-0.86, 0.0))
    assert rule.takes_over(_state(0.0, math.pi / 10 + 1e-6))
    assert not rule.hands_back(_state(0.0, 0.0, t=12.9), manual_since=10.0)  # held 2.9 s
    assert not rule.hands_back(_state(0.5, 0.0, t=14.0), manual_since=10.0)  # not centred
    assert rule.hands_back(_state(0.1, 0.05, t=13.0), manual_since=10.0)
    with pytest.raises(SimError, match="debounce"):
        SimSettings(hold_s=0.5)


def test_the_poisson_interval_is_garwoods() -> None:
    # Tabulated exact 95 % limits (e.g. Ulm 1990): 0 -> [0, 3.689], 5 -> [1.623, 11.668].
    low, high = poisson_interval(0)
    assert low == 0.0 and high == pytest.approx(3.6889, abs=1e-3)
    low, high = poisson_interval(5)
    assert low == pytest.approx(1.6235, abs=1e-3) and high == pytest.approx(11.668, abs=1e-3)
    low, high = poisson_interval(30)
    assert low == pytest.approx(20.241, abs=1e-2) and high == pytest.approx(42.827, abs=1e-2)

"""Steering geometry and the limits: they clip, they say so, and nothing out of limit leaves."""

from __future__ import annotations

import math

import pytest

from ncp_driver.errors import ConfigError
from ncp_driver.runtime import (
    PipelineConfig,
    SteeringLimiter,
    curvature_to_steering_angle,
    steering_angle_to_curvature,
)
from ncp_driver.runtime.steering import front_wheel_angle, steering_wheel_angle


def test_bicycle_model_angle() -> None:
    assert curvature_to_steering_angle(0.1, 2.5) == pytest.approx(math.atan(0.25))
    assert steering_wheel_angle(curvature_to_steering_angle(-0.1, 2.5), 15.0) == pytest.approx(
        -15 * math.atan(0.25)
    )
    wheel = steering_wheel_angle(curvature_to_steering_angle(0.07, 2.7), 14)
    assert steering_angle_to_curvature(front_wheel_angle(wheel, 14), 2.7) == pytest.approx(0.07)


def test_the_removed_steering_ratio_is_refused_with_what_to_do() -> None:
    """A vehicle file that still sets steering_ratio must not silently change the angle sent."""
    with pytest.raises(ConfigError, match=r"front-wheel angle.*steering_wheel_ratio"):
        PipelineConfig.from_mapping({"steering_ratio": 15.0})


def limiter(**settings: float) -> SteeringLimiter:
    base = {"max_curvature": 0.2, "max_curvature_rate": 0.5, "wheelbase_m": 2.5}
    base.update(settings)
    return SteeringLimiter(PipelineConfig.from_mapping(base))


def test_within_limits_passes_unchanged() -> None:
    lim = limiter()
    assert lim.apply(0.05, 0.0) == (0.05, ())
    assert lim.apply(0.06, 0.1) == (0.06, ())


def test_max_curvature_clips_and_says_so() -> None:
    lim = limiter()
    assert lim.apply(0.5, 0.0) == (0.2, ("max_curvature",))
    lim.reset()
    assert lim.apply(-0.5, 0.0) == (-0.2, ("max_curvature",))


def test_steering_angle_limit_binds_when_tighter() -> None:
    lim = limiter(max_steering_angle_rad=0.3)
    bound = math.tan(0.3) / 2.5
    assert lim.max_curvature == pytest.approx(bound)
    value, active = lim.apply(0.19, 0.0)
    assert value == pytest.approx(bound) and active == ("max_steering_angle",)


def test_rate_limit_uses_the_stamp_interval() -> None:
    lim = limiter()
    lim.apply(0.0, 10.0)
    value, active = lim.apply(0.1, 10.1)  # may move 0.5 * 0.1 = 0.05
    assert value == pytest.approx(0.05) and active == ("max_curvature_rate",)
    value, active = lim.apply(-0.1, 10.14)  # may move 0.02
    assert value == pytest.approx(0.03) and active == ("max_curvature_rate",)


def test_rate_limit_holds_over_a_gap_and_only_a_limiter_reset_lifts_it() -> None:
    lim = limiter()
    lim.apply(0.0, 0.0)
    value, active = lim.apply(-0.15, 0.6)  # 0.6 s later: may move 0.5 * 0.6 = 0.3, fits
    assert value == pytest.approx(-0.15) and active == ()
    value, active = lim.apply(0.15, 0.7)  # 0.1 s later: may move 0.05
    assert value == pytest.approx(-0.1) and active == ("max_curvature_rate",)
    lim.reset()  # a new stamp timeline (stamps went backwards)
    assert lim.apply(0.15, 0.05) == (0.15, ())


def test_repeated_stamp_allows_no_change() -> None:
    lim = limiter()
    lim.apply(0.1, 1.0)
    assert lim.apply(0.0, 1.0) == (0.1, ("max_curvature_rate",))


def test_lateral_acceleration_limit_needs_a_speed() -> None:
    lim = limiter(max_lateral_accel=2.0)
    assert lim.apply(0.15, 0.0, speed=None) == (0.15, ())
    lim.reset()
    value, active = lim.apply(0.15, 0.0, speed=10.0)  # 2 / 100 = 0.02
    assert value == pytest.approx(0.02) and active == ("max_lateral_accel",)
    lim.reset()
    assert lim.apply(0.15, 0.0, speed=0.0) == (0.15, ())


def test_a_hard_limit_beats_the_rate_limit() -> None:
    lim = limiter(max_lateral_accel=2.0)
    lim.apply(0.1, 0.0, speed=4.0)  # 2 / 16 = 0.125: allowed
    value, active = lim.apply(0.1, 0.033, speed=20.0)  # now 2 / 400 = 0.005
    assert value == pytest.approx(0.005)
    assert "max_lateral_accel" in active


def test_command_carries_angle_raw_value_and_mode() -> None:
    lim = limiter()
    cmd = lim.command(0.4, 3.0, autonomous=True)
    assert cmd.stamp == 3.0 and cmd.raw_curvature == 0.4 and cmd.curvature == 0.2
    assert cmd.steering_angle == pytest.approx(math.atan(2.5 * 0.2))  # the front-wheel angle
    assert cmd.limited and cmd.limits_active == ("max_curvature",) and cmd.autonomous


def test_a_speed_that_squares_to_zero_does_not_divide_by_zero() -> None:
    lim = limiter(max_lateral_accel=2.0)
    assert lim.apply(0.15, 0.0, speed=1e-170) == (0.15, ())  # 1e-340 underflows to 0.0

"""Pipeline settings: validation names the bad setting."""

from __future__ import annotations

import pytest

from ncp_driver.errors import ConfigError
from ncp_driver.runtime.config import PipelineConfig


def test_defaults_are_valid() -> None:
    assert PipelineConfig().providers == ("cpu",)


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"providers": ["gpu"]}, "providers"),
        ({"manual_mode": "sleep"}, "manual_mode"),
        ({"wheelbase_m": 0.0}, "wheelbase_m"),
        ({"max_curvature": float("nan")}, "max_curvature"),
        ({"min_elapsed_s": 1.0, "max_elapsed_s": 0.1}, "min_elapsed_s"),
        ({"max_steering_angle_rad": 2.0}, "pi/2"),
        ({"wheel_base": 2.0}, "unknown pipeline settings"),
    ],
)
def test_bad_settings_are_named(values: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        PipelineConfig.from_mapping(values)


def test_mapping_accepts_provider_lists() -> None:
    assert PipelineConfig.from_mapping({"providers": ["cuda", "cpu"]}).providers == ("cuda", "cpu")

"""The auto-mode flag's liveness timeout (AutoModeWatch)."""

from __future__ import annotations

import pytest

from ncp_driver.errors import ConfigError
from ncp_driver.runtime import AutoModeWatch, PipelineConfig


def test_a_fresh_flag_is_the_mode_and_a_silent_one_means_manual():
    watch = AutoModeWatch(timeout_s=1.0)
    assert not watch.autonomous(0.0) and not watch.expired(0.0), "nothing heard yet: manual"
    assert watch.age(0.0) is None
    watch.update(True, 10.0)
    assert watch.autonomous(10.5) and watch.autonomous(11.0), "within the timeout"
    assert watch.expired(11.01) and not watch.autonomous(11.01), "past it: manual"
    assert watch.last_flag and watch.age(11.5) == pytest.approx(1.5)
    watch.update(True, 12.0)
    assert watch.autonomous(12.0) and not watch.expired(12.0), "the flag is back"
    watch.update(False, 12.1)
    assert not watch.autonomous(12.2) and not watch.expired(12.2)
    assert watch.messages == 3


@pytest.mark.parametrize("timeout", [0.0, -1.0, float("nan"), float("inf")])
def test_the_timeout_must_be_positive_and_finite(timeout):
    with pytest.raises(ConfigError, match="auto_mode_timeout_s"):
        AutoModeWatch(timeout)
    with pytest.raises(ConfigError, match="auto_mode_timeout_s"):
        PipelineConfig(auto_mode_timeout_s=timeout)


def test_the_default_timeout_is_the_pipeline_configs():
    assert AutoModeWatch(PipelineConfig().auto_mode_timeout_s).timeout_s == 1.0

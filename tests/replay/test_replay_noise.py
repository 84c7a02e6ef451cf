"""Noise levels are seeded: reproducible, seed-dependent, and each level independent of the others."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from replay_helpers import columns

from ncp_driver.replay.engine import ReplayError, ReplayResult, ReplaySettings, replay


def noisy(bag: Path, model: Path, levels: tuple[float, ...], seed: int) -> ReplayResult:
    return replay([bag], ReplaySettings(model=model, noise_levels=levels, noise_seed=seed))


def identical(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Bit for bit, NaN equal to NaN."""
    return all(
        a[k] == b[k] if isinstance(a[k], list) else np.array_equal(a[k], b[k], equal_nan=True)
        for k in a
    )


def test_noise_is_seeded_and_each_level_stands_alone(ros2_bag: Path, replay_model: Path) -> None:
    first = noisy(ros2_bag, replay_model, (0.1,), seed=11)
    again = noisy(ros2_bag, replay_model, (0.1,), seed=11)
    other_seed = noisy(ros2_bag, replay_model, (0.1,), seed=12)
    with_others = noisy(ros2_bag, replay_model, (0.3, 0.1, 0.2), seed=11)

    level = columns(first.noisy[0.1])
    assert identical(level, columns(again.noisy[0.1]))
    assert identical(level, columns(with_others.noisy[0.1]))
    assert sorted(with_others.noisy) == [0.1, 0.2, 0.3]

    changed = columns(other_seed.noisy[0.1])
    assert not identical(level, changed)
    assert np.abs(level["features"] - changed["features"]).max() > 1e-3
    # Levels differ from each other, and the clean run is the same whatever the noise.
    assert not identical(level, columns(with_others.noisy[0.3]))
    assert identical(columns(first.clean), columns(other_seed.clean))
    assert identical(columns(first.clean), columns(with_others.clean))


@pytest.mark.parametrize("level", [0.0, -0.1, float("nan"), float("inf")])
def test_bad_noise_levels_are_refused(replay_model: Path, level: float) -> None:
    with pytest.raises(ReplayError, match="noise levels"):
        ReplaySettings(model=replay_model, noise_levels=(level,))


def test_a_repeated_noise_level_is_refused() -> None:
    from pathlib import Path

    from ncp_driver.replay import ReplayError, ReplaySettings

    with pytest.raises(ReplayError, match="repeat a level"):
        ReplaySettings(model=Path("m.onnx"), noise_levels=(0.1, 0.2, 0.1))

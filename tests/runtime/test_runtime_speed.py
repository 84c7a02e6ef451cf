"""The speed for the lateral-acceleration limit: one rule, the car's, for the node and the replay."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from ncp_driver.runtime.speed import LatestSpeed, RecordedSpeed, message_speed, speeds_at


def test_the_latest_speed_counts_until_the_timeout_and_a_bad_one_is_unknown() -> None:
    latest = LatestSpeed(0.5)
    assert latest.value(0.0) is None
    latest.update(7.0, 1.0)
    assert latest.value(1.0) == 7.0 and latest.value(1.5) == 7.0
    assert latest.value(1.5001) is None
    latest.update(math.nan, 2.0)
    assert latest.value(2.0) is None


def test_speed_is_the_magnitude_of_drive_speed_stamped_or_not() -> None:
    drive = SimpleNamespace(speed=-3.5)
    assert message_speed(SimpleNamespace(drive=drive)) == 3.5
    assert message_speed(drive) == 3.5


def test_recorded_samples_give_what_the_node_would_have_seen() -> None:
    """speeds_at over record times equals feeding LatestSpeed as messages arrive, frame by frame."""
    rng = np.random.default_rng(1)
    received = np.sort(rng.uniform(0.0, 10.0, 40))
    received[10:14] = received[10]  # several samples at one time: the last one counts
    speeds = rng.uniform(0.0, 20.0, received.size)
    speeds[20] = math.nan
    frames = np.sort(np.append(rng.uniform(-1.0, 12.0, 199), received[10]))
    together = int(np.flatnonzero(frames == received[10])[0])  # recorded with samples: sees them

    latest = LatestSpeed(0.5)
    expected, k = [], 0
    for now in frames:
        while k < received.size and received[k] <= now:
            latest.update(speeds[k], received[k])
            k += 1
        value = latest.value(now)
        expected.append(math.nan if value is None else value)

    got = speeds_at(received, speeds, frames, 0.5)
    np.testing.assert_array_equal(got, np.array(expected))
    assert got[together] == speeds[13]
    assert np.isnan(got).any() and np.isfinite(got).sum() > 50  # both cases occur
    shuffled = rng.permutation(frames.size)
    np.testing.assert_array_equal(speeds_at(received, speeds, frames[shuffled], 0.5), got[shuffled])
    track = RecordedSpeed(received, speeds, 0.5)
    assert [track.at(t) for t in frames[::-1]][::-1] == [
        None if math.isnan(v) else v for v in expected
    ]  # a clock that goes back starts over

"""THE takeover rule: autonomous -> manual transitions of the debounced flag."""

from __future__ import annotations

import numpy as np

from ncp_driver.takeover import debounce, find_takeovers, mode_segments


def _signal(pattern: str, hz: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    flags = np.array([c == "A" for c in pattern])
    return np.arange(flags.size) / hz, flags


def test_each_auto_to_manual_transition_is_a_takeover_stamped_at_first_manual_sample() -> None:
    stamps, flags = _signal("MMAAAAAAMMMMMMAAAAAAAMMMMMMM")
    idx = find_takeovers(stamps, flags, min_duration_s=0.3)
    assert idx.tolist() == [8, 21]
    assert np.allclose(stamps[idx], [0.8, 2.1])


def test_manual_to_auto_is_not_a_takeover() -> None:
    stamps, flags = _signal("MMMMMAAAAAAA")
    assert find_takeovers(stamps, flags).size == 0


def test_a_flicker_shorter_than_the_debounce_is_ignored() -> None:
    stamps, flags = _signal("AAAAAAMMAAAAAAAA")  # 0.2 s of manual
    assert find_takeovers(stamps, flags, min_duration_s=0.5).size == 0
    assert find_takeovers(stamps, flags, min_duration_s=0.2).tolist() == [6]
    assert debounce(stamps, flags, 0.5).all()


def test_a_takeover_at_the_end_of_the_recording_counts() -> None:
    stamps, flags = _signal("AAAAAAAAM")
    assert find_takeovers(stamps, flags, min_duration_s=0.5).tolist() == [8]


def test_segments_cover_the_recording() -> None:
    stamps, flags = _signal("MMAAAAAAMMMM")
    segments = mode_segments(stamps, flags, 0.1)
    assert [(s.autonomous, s.start, s.stop) for s in segments] == [
        (False, 0, 2),
        (True, 2, 8),
        (False, 8, 12),
    ]
    assert segments[1].t_start == 0.2 and segments[1].t_end == 0.8

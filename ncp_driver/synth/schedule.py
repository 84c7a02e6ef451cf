"""When the car drives itself: engagements (manual -> auto) and takeovers (auto -> manual).

The drive starts manual. Every stretch, manual or autonomous, lasts longer than the takeover
debounce (:data:`ncp_driver.takeover.DEFAULT_MIN_DURATION_S`) plus two flag samples, so the
takeover rule counts exactly the scheduled takeovers.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ncp_driver.synth.config import DriveConfig
from ncp_driver.synth.errors import SynthError
from ncp_driver.takeover import DEFAULT_MIN_DURATION_S

__all__ = ["ModeSchedule", "make_schedule"]


@dataclass(frozen=True)
class ModeSchedule:
    """Engagement and takeover times, seconds after the start; ``engage_s[i] < takeover_s[i]``.

    There are as many engagements as takeovers, or one more (autonomous to the end).
    """

    engage_s: tuple[float, ...]
    takeover_s: tuple[float, ...]

    def is_auto(self, t_ns: np.ndarray) -> np.ndarray:
        """The flag at times ``t_ns`` (integer nanoseconds after the start)."""
        t_ns = np.asarray(t_ns, dtype=np.int64)
        auto = np.zeros(t_ns.shape, dtype=bool)
        for i, engage in enumerate(self.engage_s):
            start = _ns(engage)
            stop = _ns(self.takeover_s[i]) if i < len(self.takeover_s) else np.iinfo(np.int64).max
            auto |= (t_ns >= start) & (t_ns < stop)
        return auto


def _ns(seconds: float) -> int:
    return round(seconds * 1e9)


def make_schedule(config: DriveConfig, rng: np.random.Generator) -> ModeSchedule:
    """The schedule the config asks for: explicit times, or ``takeover_count`` seeded ones."""
    guard = DEFAULT_MIN_DURATION_S + 2.0 / config.mode_hz
    if config.takeover_times_s is not None:
        takeovers = tuple(float(t) for t in config.takeover_times_s)
        if config.engage_times_s is not None:
            engages = tuple(float(t) for t in config.engage_times_s)
        else:
            engages = _engagements_for(takeovers, config, rng, guard)
    elif config.engage_times_s is not None:
        raise SynthError(
            "engage_times_s was given without takeover_times_s: give both, or neither "
            "(then takeover_count places them)"
        )
    else:
        engages, takeovers = _seeded(config, rng, guard)
    schedule = ModeSchedule(engage_s=engages, takeover_s=takeovers)
    _check(schedule, config.duration_s, guard)
    return schedule


def _engagements_for(
    takeovers: tuple[float, ...], config: DriveConfig, rng: np.random.Generator, guard: float
) -> tuple[float, ...]:
    """Engage at ``first_engage_s`` and again a manual stretch after each takeover."""
    if not takeovers:
        return (config.first_engage_s,) if config.first_engage_s < config.duration_s - guard else ()
    engages = [min(config.first_engage_s, takeovers[0] - guard)]
    for i, takeover in enumerate(takeovers):
        manual = float(rng.uniform(*config.manual_s))
        nxt = takeovers[i + 1] if i + 1 < len(takeovers) else None
        if nxt is not None:
            manual = min(manual, (nxt - takeover) / 2.0)
            engages.append(takeover + max(manual, guard))
        elif takeover + manual < config.duration_s - guard:
            engages.append(takeover + manual)
    return tuple(engages)


def _seeded(
    config: DriveConfig, rng: np.random.Generator, guard: float
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """``takeover_count`` takeovers spread over the drive with random autonomous stretches."""
    n = config.takeover_count
    first = config.first_engage_s
    if n == 0:
        return ((first,) if first < config.duration_s - guard else ()), ()
    manual = rng.uniform(*config.manual_s, size=n)
    min_auto = max(config.min_auto_s, guard)
    # The last manual stretch may be cut short by the end of the drive (but lasts >= guard).
    need = first + n * min_auto + float(manual[:-1].sum()) + guard + 0.01
    spare = config.duration_s - need
    if spare < 0:
        raise SynthError(
            f"{n} takeovers do not fit in a {config.duration_s} s drive (they need at least "
            f"{need:.1f} s): lengthen the drive or lower the takeover count"
        )
    extra = rng.dirichlet(np.ones(n + 1)) * spare  # the last share: left at the end
    engages: list[float] = []
    takeovers: list[float] = []
    t = first
    for i in range(n):
        engages.append(round(t, 3))
        t += min_auto + float(extra[i])
        takeovers.append(round(t, 3))
        t += float(manual[i])
    if t < config.duration_s - guard:
        engages.append(round(t, 3))
    return tuple(engages), tuple(takeovers)


def _check(schedule: ModeSchedule, duration_s: float, guard: float) -> None:
    """Engagements and takeovers alternate, inside the drive, each stretch at least ``guard``."""
    engages, takeovers = schedule.engage_s, schedule.takeover_s
    if len(engages) not in (len(takeovers), len(takeovers) + 1):
        raise SynthError(
            f"{len(engages)} engagements for {len(takeovers)} takeovers: give one engagement per "
            "takeover, or one more (autonomous to the end)"
        )
    events: list[float] = []
    for i, engage in enumerate(engages):
        events.append(engage)
        if i < len(takeovers):
            events.append(takeovers[i])
    if events and events[0] < 0:
        raise SynthError(f"the first engagement at {events[0]} s is before the start")
    for a, b in itertools.pairwise(events):
        if b - a < guard:
            raise SynthError(
                f"mode changes at {a} s and {b} s are {b - a:.2f} s apart: every manual or "
                f"autonomous stretch must last at least {guard:.2f} s (the takeover debounce "
                "plus two flag samples)"
            )
    if events and events[-1] > duration_s - guard:
        raise SynthError(
            f"the last mode change at {events[-1]} s is too close to the end of the "
            f"{duration_s} s drive: keep it before {duration_s - guard:.2f} s"
        )

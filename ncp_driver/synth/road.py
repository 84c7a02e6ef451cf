"""The road: a centreline of piecewise-linear curvature (straights, arcs, clothoid transitions).

Curvature is defined over arc length by knots and interpolated linearly between them, so a
ramp between two knots is a clothoid transition and a constant stretch is a straight (zero) or
a circular arc. Heading and position are its integrals, sampled every ``ds`` metres in a local
east-north (ENU) frame whose origin is the start of the road.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Road", "make_road", "speed_profile"]

LEAD_IN_M = 40.0  # the road starts straight so the drive starts in a sane pose


@dataclass(frozen=True)
class Road:
    """The sampled centreline. Arrays have one entry per ``ds`` metres of arc length."""

    ds: float
    s: np.ndarray  # arc length, m
    x: np.ndarray  # east, m
    y: np.ndarray  # north, m
    heading: np.ndarray  # rad, counter-clockwise from east, continuous (not wrapped)
    curvature: np.ndarray  # 1/m, positive = turning left
    knots_s: np.ndarray  # the definition: curvature knots_curvature[i] at knots_s[i]
    knots_curvature: np.ndarray
    lane_width_m: float

    @property
    def length(self) -> float:
        return float(self.s[-1])

    @property
    def width(self) -> float:
        """Asphalt width: two lanes."""
        return 2.0 * self.lane_width_m

    def index(self, s: np.ndarray | float) -> np.ndarray:
        """Sample index at or below arc length ``s`` (clipped to the road)."""
        return np.clip((np.asarray(s) / self.ds).astype(np.int64), 0, self.s.size - 1)


def make_road(
    rng: np.random.Generator,
    length_m: float,
    lane_width_m: float,
    min_radius_m: float,
    max_radius_m: float,
    ds: float = 0.1,
) -> Road:
    """A seeded road at least ``length_m`` long, starting at (0, 0) with a random heading."""
    knots_s = [0.0, LEAD_IN_M]
    knots_k = [0.0, 0.0]
    s = LEAD_IN_M
    k = 0.0
    while s < length_m:
        if k != 0.0 and rng.random() < 0.35:
            k_new = 0.0
        else:
            radius = math.exp(rng.uniform(math.log(min_radius_m), math.log(max_radius_m)))
            k_new = float(rng.choice((-1.0, 1.0))) / radius
        transition = rng.uniform(10.0, 25.0) * (1.0 + 20.0 * abs(k_new - k))
        if k_new == 0.0:
            hold = rng.uniform(20.0, 100.0)
        else:
            turn = math.radians(rng.uniform(20.0, 110.0))
            hold = min(turn / abs(k_new), 250.0)
        s += transition
        knots_s.append(s)
        knots_k.append(k_new)
        s += hold
        knots_s.append(s)
        knots_k.append(k_new)
        k = k_new

    n = math.ceil(s / ds) + 1
    arc = np.arange(n, dtype=np.float64) * ds
    curvature = np.interp(arc, knots_s, knots_k)
    heading0 = rng.uniform(-math.pi, math.pi)
    heading = heading0 + np.concatenate(
        ([0.0], np.cumsum(0.5 * (curvature[1:] + curvature[:-1]) * ds))
    )
    mid = 0.5 * (heading[1:] + heading[:-1])
    x = np.concatenate(([0.0], np.cumsum(np.cos(mid) * ds)))
    y = np.concatenate(([0.0], np.cumsum(np.sin(mid) * ds)))
    return Road(
        ds=ds,
        s=arc,
        x=x,
        y=y,
        heading=heading,
        curvature=curvature,
        knots_s=np.asarray(knots_s),
        knots_curvature=np.asarray(knots_k),
        lane_width_m=lane_width_m,
    )


def speed_profile(
    road: Road,
    min_speed: float,
    max_speed: float,
    max_lateral_accel: float,
    max_decel: float = 1.5,
) -> np.ndarray:
    """Target speed along the road: slower in curves, braking ahead of them."""
    with np.errstate(divide="ignore"):
        v_curve = np.sqrt(max_lateral_accel / np.abs(road.curvature))
    v = np.clip(v_curve, min_speed, max_speed)
    # Backward pass: reach each curve's speed at ``max_decel`` (on a coarse grid, then back).
    step = max(1, round(1.0 / road.ds))
    coarse = v[::step].copy()
    ds = road.ds * step
    for i in range(coarse.size - 2, -1, -1):
        coarse[i] = min(coarse[i], math.sqrt(coarse[i + 1] ** 2 + 2.0 * max_decel * ds))
    return np.minimum(v, np.interp(road.s, road.s[::step], coarse))

"""How the world looks: seeded colours, textures, tree shadows, skyline and lighting of one drive.

Everything here is fixed in the world (textures and shadows are indexed by road coordinates,
the skyline by compass direction), so it moves consistently with the car; lighting is a smooth
function of time. Nothing depends on the frame being rendered, so frames can be drawn in any
order with the same result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["SHADOW_CELL_M", "TEXTURE_CELL_M", "Lighting", "Scenery", "make_scenery"]

TEXTURE_CELL_M = 0.05  # one texture cell; the table repeats every 1024 x 256 cells
SHADOW_CELL_M = 0.05
_TEXTURE_SHAPE = (1024, 256)


@dataclass(frozen=True)
class Lighting:
    """Global brightness, contrast and colour tint as sums of slow sinusoids of time."""

    gain0: float
    gain_terms: np.ndarray  # rows: amplitude, frequency (Hz), phase
    contrast0: float
    contrast_terms: np.ndarray
    tint: np.ndarray  # 3 x 3: per channel base, amplitude, frequency

    def at(self, t: float) -> tuple[float, float, np.ndarray]:
        """(gain, contrast, per-channel tint) at ``t`` seconds after the start."""

        def wave(base: float, terms: np.ndarray) -> float:
            return base + float(
                np.sum(terms[:, 0] * np.sin(2 * math.pi * terms[:, 1] * t + terms[:, 2]))
            )

        gain = min(max(wave(self.gain0, self.gain_terms), 0.5), 1.4)
        contrast = min(max(wave(self.contrast0, self.contrast_terms), 0.7), 1.25)
        tint = self.tint[:, 0] + self.tint[:, 1] * np.sin(2 * math.pi * self.tint[:, 2] * t)
        return gain, contrast, tint.astype(np.float32)


@dataclass(frozen=True)
class Scenery:
    """Seeded appearance of one drive (RGB colours in 0..255)."""

    asphalt: np.ndarray
    grass: np.ndarray
    gravel: np.ndarray
    paint: np.ndarray
    centre_paint: np.ndarray
    paint_strength: float
    edge_lines: bool
    shoulder_m: float
    dash_m: float  # dash length of the centre line
    gap_m: float
    texture: np.ndarray  # H x W x 2 float32: asphalt and grass relative brightness (mean 0)
    shadow_dark: tuple[np.ndarray, np.ndarray]  # left, right: darkness 0..1 along the road
    shadow_reach: tuple[np.ndarray, np.ndarray]  # how far the shadow reaches across, m
    shadow_slope: tuple[float, float]  # along-road shift per metre across (shadow angle)
    sky_top: np.ndarray
    sky_horizon: np.ndarray
    trees: np.ndarray  # skyline height (deg above the horizon) per 0.1 deg of compass direction
    tree_colour: np.ndarray
    hood: np.ndarray
    lighting: Lighting


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Periodic low-frequency noise (std about 1) of ``shape``, with ``cells`` lumps along axis 0."""
    low = rng.standard_normal((cells, max(2, cells * shape[1] // shape[0])))
    low = np.tile(low, (3, 3))
    big = cv2.resize(low, (3 * shape[1], 3 * shape[0]), interpolation=cv2.INTER_CUBIC)[
        shape[0] : 2 * shape[0], shape[1] : 2 * shape[1]
    ]
    return (big / (big.std() + 1e-9)).astype(np.float32)


def _shadow_tables(
    rng: np.random.Generator, length_m: float, density: float
) -> tuple[np.ndarray, np.ndarray]:
    """Tree shadows along one side of the road: darkness and reach per SHADOW_CELL_M."""
    n = int(length_m / SHADOW_CELL_M) + 1
    dark = np.zeros(n, dtype=np.float32)
    reach = np.zeros(n, dtype=np.float32)
    s = float(rng.uniform(0.0, 20.0))
    while s < length_m and density > 0:
        # Groups of trees separated by open stretches.
        if rng.random() < 0.3:
            s += float(rng.exponential(60.0 / density))
            continue
        width = float(rng.uniform(0.4, 4.0))
        a, b = int(s / SHADOW_CELL_M), int((s + width) / SHADOW_CELL_M)
        dark[a:b] = np.maximum(dark[a:b], rng.uniform(0.3, 0.6))
        reach[a:b] = np.maximum(reach[a:b], rng.uniform(2.0, 14.0))
        s += width + float(rng.exponential(6.0 / density))
    kernel = np.ones(7, dtype=np.float32) / 7
    dark = np.convolve(dark, kernel, mode="same").astype(np.float32)
    return dark, reach


def make_scenery(rng: np.random.Generator, road_length_m: float) -> Scenery:
    """A seeded look: asphalt, verge, markings, tree shadows, sky, skyline and lighting."""
    grey = rng.uniform(70.0, 125.0)
    asphalt = grey * (1.0 + rng.uniform(-0.04, 0.04, 3))
    dry = rng.uniform(0.0, 1.0)
    grass = (1 - dry) * np.array([70.0, 110.0, 45.0]) + dry * np.array([150.0, 135.0, 80.0])
    grass *= rng.uniform(0.8, 1.15)
    gravel = np.array([140.0, 130.0, 115.0]) * rng.uniform(0.8, 1.1)
    white = np.array([235.0, 235.0, 228.0])
    yellow = np.array([225.0, 185.0, 60.0])
    centre = yellow if rng.random() < 0.25 else white

    texture = np.empty((*_TEXTURE_SHAPE, 2), dtype=np.float32)
    fine = rng.standard_normal((*_TEXTURE_SHAPE, 2)).astype(np.float32)
    fine = cv2.GaussianBlur(fine, (3, 3), 0.7) * 2.0
    texture[..., 0] = 0.06 * fine[..., 0] + 0.07 * _smooth_noise(rng, _TEXTURE_SHAPE, 12)
    texture[..., 1] = 0.14 * fine[..., 1] + 0.12 * _smooth_noise(rng, _TEXTURE_SHAPE, 24)

    length = road_length_m + 100.0
    left = _shadow_tables(rng, length, float(rng.choice((0.0, 0.5, 1.0, 2.0))))
    right = _shadow_tables(rng, length, float(rng.choice((0.0, 0.3, 1.0))))

    bumps = np.abs(rng.standard_normal(3600))
    bumps = np.convolve(np.tile(bumps, 3), np.ones(15) / 15, mode="same")[3600:7200]
    fields = _smooth_noise(rng, (3600, 2), 20)[:, 0] > rng.uniform(-0.5, 0.8)
    trees = np.where(fields, 0.25, 0.8 + 2.5 * bumps).astype(np.float32)

    def terms(count: int, amplitude: float) -> np.ndarray:
        return np.column_stack(
            (
                rng.uniform(0.3, 1.0, count) * amplitude / count,
                rng.uniform(0.01, 0.12, count),
                rng.uniform(0, 2 * math.pi, count),
            )
        )

    lighting = Lighting(
        gain0=float(rng.uniform(0.8, 1.15)),
        gain_terms=terms(3, 0.45),
        contrast0=float(rng.uniform(0.85, 1.1)),
        contrast_terms=terms(2, 0.2),
        tint=np.column_stack(
            (
                1.0 + rng.uniform(-0.06, 0.06, 3),
                rng.uniform(0, 0.03, 3),
                rng.uniform(0.005, 0.03, 3),
            )
        ),
    )
    return Scenery(
        asphalt=asphalt.astype(np.float32),
        grass=grass.astype(np.float32),
        gravel=gravel.astype(np.float32),
        paint=white.astype(np.float32),
        centre_paint=centre.astype(np.float32),
        paint_strength=float(rng.uniform(0.55, 1.0)),
        edge_lines=bool(rng.random() < 0.85),
        shoulder_m=float(rng.uniform(0.3, 1.2)),
        dash_m=float(rng.uniform(2.0, 4.0)),
        gap_m=float(rng.uniform(4.0, 8.0)),
        texture=texture,
        shadow_dark=(left[0], right[0]),
        shadow_reach=(left[1], right[1]),
        shadow_slope=(float(rng.uniform(-1.2, 1.2)), float(rng.uniform(-1.2, 1.2))),
        sky_top=np.array([70.0, 120.0, 200.0], dtype=np.float32) * rng.uniform(0.85, 1.15),
        sky_horizon=np.array([205.0, 215.0, 225.0], dtype=np.float32) * rng.uniform(0.9, 1.05),
        trees=trees,
        tree_colour=np.array([40.0, 60.0, 35.0], dtype=np.float32) * rng.uniform(0.7, 1.3),
        hood=np.array([38.0, 40.0, 44.0], dtype=np.float32) * rng.uniform(0.7, 1.5),
        lighting=lighting,
    )

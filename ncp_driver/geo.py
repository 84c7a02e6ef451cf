"""The earth model: latitude/longitude to local metres and back, and distances along a track.

One definition for the bag tools (takeovers, lateral discomfort, maps), the audit's and the
report's road traces, and the synthetic GPS. The local frame is east-north (ENU without up) on
the WGS84 ellipsoid's tangent plane at an origin, using the meridian and prime-vertical radii of
curvature there: exact enough (mm per km) for a test track of a few kilometres. NaN positions
stay NaN.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "WGS84_A",
    "WGS84_E2",
    "from_local_m",
    "haversine_m",
    "path_length_m",
    "radii_m",
    "step_lengths_m",
    "to_local_m",
    "track_origin",
]

WGS84_A = 6378137.0  # semi-major axis, m
WGS84_E2 = 6.69437999014e-3  # first eccentricity squared
_R_MEAN = 6371008.8  # mean Earth radius, m (haversine)


def radii_m(lat0: float) -> tuple[float, float]:
    """Meridian and prime-vertical radii of curvature at latitude ``lat0`` (degrees)."""
    s2 = float(np.sin(np.radians(lat0))) ** 2
    return WGS84_A * (1 - WGS84_E2) / (1 - WGS84_E2 * s2) ** 1.5, WGS84_A / np.sqrt(
        1 - WGS84_E2 * s2
    )


def track_origin(latitude: np.ndarray, longitude: np.ndarray) -> tuple[float, float] | None:
    """The mean finite position (deg), or None when there is none."""
    lat = np.asarray(latitude, dtype=np.float64)
    lon = np.asarray(longitude, dtype=np.float64)
    ok = np.isfinite(lat) & np.isfinite(lon)
    if not np.any(ok):
        return None
    return float(np.mean(lat[ok])), float(np.mean(lon[ok]))


def _first_finite(lat: np.ndarray, lon: np.ndarray) -> tuple[float, float] | None:
    ok = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    return (float(lat[ok[0]]), float(lon[ok[0]])) if ok.size else None


def to_local_m(
    latitude: np.ndarray,
    longitude: np.ndarray,
    origin: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(east, north) in metres from ``origin`` (lat, lon degrees; default the first finite fix)."""
    lat = np.asarray(latitude, dtype=np.float64)
    lon = np.asarray(longitude, dtype=np.float64)
    if lat.size == 0:
        return lat.copy(), lon.copy()
    origin = origin if origin is not None else _first_finite(lat, lon)
    if origin is None:
        return np.full(lat.shape, np.nan), np.full(lon.shape, np.nan)
    lat0, lon0 = origin
    r_meridian, r_normal = radii_m(lat0)
    dlon = (lon - lon0 + 180.0) % 360.0 - 180.0
    east = np.radians(dlon) * r_normal * np.cos(np.radians(lat0))
    north = np.radians(lat - lat0) * r_meridian
    return east, north


def from_local_m(
    east: np.ndarray, north: np.ndarray, origin: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """(latitude, longitude) in degrees of local (east, north) metres: the inverse of
    :func:`to_local_m` for the same ``origin``."""
    lat0, lon0 = origin
    r_meridian, r_normal = radii_m(lat0)
    lat = lat0 + np.degrees(np.asarray(north, dtype=np.float64) / r_meridian)
    lon = lon0 + np.degrees(
        np.asarray(east, dtype=np.float64) / (r_normal * np.cos(np.radians(lat0)))
    )
    return lat, lon


def haversine_m(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in metres (mean Earth radius)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * _R_MEAN * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def step_lengths_m(latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
    """Distance from each fix to the next (N-1 values), in metres, NaN next to a NaN fix."""
    east, north = to_local_m(latitude, longitude)
    if east.size < 2:
        return np.empty(0)
    return np.hypot(np.diff(east), np.diff(north))


def path_length_m(latitude: np.ndarray, longitude: np.ndarray) -> float:
    """Length of the polyline through the fixes, in metres (NaN steps left out)."""
    steps = step_lengths_m(latitude, longitude)
    return float(steps[np.isfinite(steps)].sum())

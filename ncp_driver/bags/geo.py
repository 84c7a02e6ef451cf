"""Latitude/longitude to local metres, and distances along a GPS track.

The local frame is east-north (ENU without up) on the WGS84 ellipsoid's tangent plane at an
origin, using the meridian and prime-vertical radii of curvature there: exact enough (mm per km)
for a test track of a few kilometres.
"""

from __future__ import annotations

import numpy as np

__all__ = ["from_local_m", "haversine_m", "path_length_m", "step_lengths_m", "to_local_m"]

_A = 6378137.0  # WGS84 semi-major axis, m
_E2 = 6.69437999014e-3  # WGS84 first eccentricity squared
_R_MEAN = 6371008.8  # mean Earth radius, m (haversine)


def _radii(lat0: float) -> tuple[float, float]:
    """Meridian and prime-vertical radii of curvature at latitude ``lat0`` (degrees)."""
    s2 = np.sin(np.radians(lat0)) ** 2
    return _A * (1 - _E2) / (1 - _E2 * s2) ** 1.5, _A / np.sqrt(1 - _E2 * s2)


def to_local_m(
    latitude: np.ndarray,
    longitude: np.ndarray,
    origin: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(east, north) in metres from ``origin`` (lat, lon degrees; default the first fix)."""
    lat = np.asarray(latitude, dtype=np.float64)
    lon = np.asarray(longitude, dtype=np.float64)
    if lat.size == 0:
        return lat.copy(), lon.copy()
    lat0, lon0 = origin if origin is not None else (float(lat[0]), float(lon[0]))
    phi = np.radians(lat0)
    r_meridian, r_normal = _radii(lat0)
    dlon = (lon - lon0 + 180.0) % 360.0 - 180.0
    east = np.radians(dlon) * r_normal * np.cos(phi)
    north = np.radians(lat - lat0) * r_meridian
    return east, north


def from_local_m(
    east: np.ndarray, north: np.ndarray, origin: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """(latitude, longitude) in degrees of local (east, north) metres: the inverse of
    :func:`to_local_m` for the same ``origin``."""
    lat0, lon0 = origin
    r_meridian, r_normal = _radii(lat0)
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


def path_length_m(latitude: np.ndarray, longitude: np.ndarray) -> float:
    """Length of the polyline through the fixes, in metres (summed in the local frame)."""
    return float(step_lengths_m(latitude, longitude).sum())


def step_lengths_m(latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
    """Distance from each fix to the next (N-1 values), in metres, in the local frame."""
    east, north = to_local_m(latitude, longitude)
    if east.size < 2:
        return np.empty(0)
    return np.hypot(np.diff(east), np.diff(north))

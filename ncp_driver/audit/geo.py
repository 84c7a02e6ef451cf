"""GPS positions to a local metric plane, for drawing road traces."""

from __future__ import annotations

import numpy as np

__all__ = ["EARTH_RADIUS_M", "local_metres", "path_length_m", "track_origin"]

EARTH_RADIUS_M = 6_371_000.0


def track_origin(latitude: np.ndarray, longitude: np.ndarray) -> tuple[float, float] | None:
    """The mean finite position (deg), or None when there is none."""
    lat = np.asarray(latitude, dtype=np.float64)
    lon = np.asarray(longitude, dtype=np.float64)
    ok = np.isfinite(lat) & np.isfinite(lon)
    if not np.any(ok):
        return None
    return float(np.mean(lat[ok])), float(np.mean(lon[ok]))


def local_metres(
    latitude: np.ndarray,
    longitude: np.ndarray,
    origin: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """East and north offsets (m) from ``origin`` (default: the mean finite position).

    Equirectangular: accurate to well under 1 % over the few kilometres of a drive. NaN stays
    NaN.
    """
    lat = np.asarray(latitude, dtype=np.float64)
    lon = np.asarray(longitude, dtype=np.float64)
    origin = origin or track_origin(lat, lon)
    if origin is None:
        return np.full(lat.shape, np.nan), np.full(lon.shape, np.nan)
    lat0, lon0 = origin
    east = np.radians(lon - lon0) * EARTH_RADIUS_M * np.cos(np.radians(lat0))
    north = np.radians(lat - lat0) * EARTH_RADIUS_M
    return east, north


def path_length_m(latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
    """Distance (m) between consecutive positions: length N, the first 0, NaN next to gaps."""
    east, north = local_metres(latitude, longitude)
    step = np.hypot(np.diff(east), np.diff(north))
    return np.concatenate(([0.0], step))

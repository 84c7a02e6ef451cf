"""Speed, yaw rate, lateral acceleration and lateral jerk from GPS, odometry or IMU.

Every source is resampled onto a uniform grid (``rate`` Hz) in blocks without gaps longer than
``max_gap_s``, then smoothed and differentiated with Savitzky-Golay filters (a local cubic fitted
over ``window_s``):

- GPS: fixes projected to local east/north metres (:mod:`ncp_driver.geo`); velocity ``v`` and
  acceleration ``a`` are the filters' first and second derivatives; speed ``|v|``; yaw rate
  ``(v x a) / |v|^2`` (the derivative of the heading atan2(v_n, v_e), unwrapped); lateral
  acceleration ``a_lat = (v x a) / |v|`` (= speed x yaw rate).
- Odometry: speed ``twist.linear.x``, yaw rate ``twist.angular.z``.
- IMU: yaw rate is the gyro rate about the vertical, the mean accelerometer direction while not
  turning (so any mounting works; :func:`vertical_rate`); speed from odometry, else from GPS.
- Odometry and IMU: ``a_lat = speed x yaw rate``, then smoothed with the same filter.
- Jerk is the filter's first derivative of ``a_lat``.

Below ``min_speed`` the heading is undefined: yaw rate and ``a_lat`` are 0 there and the samples
are flagged as not moving.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ncp_driver.geo import to_local_m

__all__ = [
    "Motion",
    "MotionSettings",
    "from_gps",
    "from_imu",
    "from_odometry",
    "gaps_split",
    "savgol",
    "vertical_rate",
]


@dataclass(frozen=True)
class MotionSettings:
    """How signals are resampled and smoothed (see the module docstring)."""

    rate_hz: float = 10.0
    window_s: float = 2.0
    order: int = 3
    max_gap_s: float = 1.0
    min_speed: float = 1.0  # m/s: below it, heading (and a_lat) are not defined


@dataclass(frozen=True)
class Motion:
    """Signals on a uniform grid (blocks without gaps, concatenated); times in record seconds."""

    source: str
    t: np.ndarray
    speed: np.ndarray
    yaw_rate: np.ndarray
    a_lat: np.ndarray
    jerk: np.ndarray
    moving: np.ndarray  # bool: speed >= min_speed
    dt: float

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def at(
        self, times: np.ndarray, values: np.ndarray, tolerance: float | None = None
    ) -> np.ndarray:
        """``values`` at ``times`` (nearest grid sample within ``tolerance``, else NaN)."""
        times = np.asarray(times, dtype=np.float64)
        out = np.full(times.shape, np.nan)
        if len(self) == 0:
            return out
        tol = self.dt if tolerance is None else tolerance
        idx = (
            np.clip(np.searchsorted(self.t, times), 1, len(self) - 1)
            if len(self) > 1
            else np.zeros(times.shape, dtype=int)
        )
        if len(self) > 1:
            left = idx - 1
            nearer_left = np.abs(times - self.t[left]) <= np.abs(self.t[idx] - times)
            idx = np.where(nearer_left, left, idx)
        ok = np.abs(self.t[idx] - times) <= tol
        out[ok] = values[idx[ok]]
        return out


def _savgol_coefficients(window: int, order: int, deriv: int, dt: float) -> np.ndarray:
    """Convolution weights giving the ``deriv``-th derivative at the window's centre."""
    half = window // 2
    x = np.arange(-half, half + 1, dtype=np.float64)
    vander = np.vander(x, order + 1, increasing=True)
    pinv = np.linalg.pinv(vander)
    factorial = float(np.prod(np.arange(1, deriv + 1))) if deriv else 1.0
    return pinv[deriv] * factorial / dt**deriv


def savgol(x: np.ndarray, window: int, order: int, deriv: int, dt: float) -> np.ndarray:
    """Savitzky-Golay smoothing (``deriv`` 0) or derivative of uniformly sampled ``x``.

    ``window`` is odd; the first and last half-windows use the polynomial fitted to the first
    and last full windows.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    if window % 2 == 0 or window <= order:
        raise ValueError(f"window {window} must be odd and larger than the order {order}")
    if n < window:
        raise ValueError(f"{n} samples are fewer than the window {window}")
    coeffs = _savgol_coefficients(window, order, deriv, dt)
    out = np.empty(n)
    half = window // 2
    # correlate: out[i] = sum_k coeffs[k] * x[i - half + k]
    out[half : n - half] = np.correlate(x, coeffs, mode="valid")
    positions = np.arange(window, dtype=np.float64) - half
    for sl, centre_offsets in (
        (slice(0, window), positions[:half]),
        (slice(n - window, n), positions[half + 1 :]),
    ):
        poly = np.polynomial.Polynomial.fit(positions, x[sl], order, domain=[-1, 1], window=[-1, 1])
        values = poly.deriv(deriv)(centre_offsets) / dt**deriv if deriv else poly(centre_offsets)
        if sl.start == 0:
            out[:half] = values
        else:
            out[n - half :] = values
    return out


def gaps_split(t: np.ndarray, max_gap_s: float) -> list[slice]:
    """Slices of ``t`` (sorted) between gaps longer than ``max_gap_s``."""
    t = np.asarray(t, dtype=np.float64)
    if t.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(t) > max_gap_s) + 1
    edges = [0, *breaks.tolist(), t.size]
    return [slice(a, b) for a, b in itertools.pairwise(edges)]


def _grid_blocks(t: np.ndarray, settings: MotionSettings) -> list[tuple[slice, np.ndarray]]:
    """Per gap-free block: its slice of ``t`` and a uniform grid long enough to filter."""
    dt = 1.0 / settings.rate_hz
    window = _window(settings)
    blocks = []
    for sl in gaps_split(t, settings.max_gap_s):
        start, stop = t[sl][0], t[sl][-1]
        grid = start + dt * np.arange(int(np.floor((stop - start) / dt + 1e-9)) + 1)
        if grid.size >= window:
            blocks.append((sl, grid))
    return blocks


def _window(settings: MotionSettings) -> int:
    window = round(settings.window_s * settings.rate_hz)
    window += 1 - window % 2
    return max(window, settings.order + 1 + (settings.order % 2 == 0))


def _empty(source: str, settings: MotionSettings) -> Motion:
    e = np.empty(0)
    return Motion(source, e, e, e, e, e, np.empty(0, dtype=bool), 1.0 / settings.rate_hz)


def _finish(
    source: str,
    settings: MotionSettings,
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
) -> Motion:
    """Jerk per block from (t, speed, yaw_rate, a_lat) blocks, then concatenate."""
    if not parts:
        return _empty(source, settings)
    dt = 1.0 / settings.rate_hz
    window = _window(settings)
    jerks = [savgol(a, window, settings.order, 1, dt) for _, _, _, a in parts]
    t = np.concatenate([p[0] for p in parts])
    speed = np.concatenate([p[1] for p in parts])
    return Motion(
        source=source,
        t=t,
        speed=speed,
        yaw_rate=np.concatenate([p[2] for p in parts]),
        a_lat=np.concatenate([p[3] for p in parts]),
        jerk=np.concatenate(jerks),
        moving=speed >= settings.min_speed,
        dt=dt,
    )


def from_gps(
    t: np.ndarray,
    latitude: np.ndarray,
    longitude: np.ndarray,
    settings: MotionSettings = MotionSettings(),
) -> Motion:
    """Motion from GPS fixes at times ``t`` (s, increasing)."""
    t = np.asarray(t, dtype=np.float64)
    east, north = to_local_m(latitude, longitude)
    dt = 1.0 / settings.rate_hz
    window = _window(settings)
    parts = []
    for sl, grid in _grid_blocks(t, settings):
        e = np.interp(grid, t[sl], east[sl])
        n = np.interp(grid, t[sl], north[sl])
        ve, vn = (
            savgol(e, window, settings.order, 1, dt),
            savgol(n, window, settings.order, 1, dt),
        )
        ae, an = (
            savgol(e, window, settings.order, 2, dt),
            savgol(n, window, settings.order, 2, dt),
        )
        speed = np.hypot(ve, vn)
        cross = ve * an - vn * ae
        moving = speed >= settings.min_speed
        safe = np.where(moving, speed, 1.0)
        yaw_rate = np.where(moving, cross / safe**2, 0.0)
        a_lat = np.where(moving, cross / safe, 0.0)
        parts.append((grid, speed, yaw_rate, a_lat))
    return _finish("gps", settings, parts)


def _from_rates(
    source: str,
    t: np.ndarray,
    speed_t: np.ndarray,
    speed: np.ndarray,
    yaw_rate: np.ndarray,
    settings: MotionSettings,
) -> Motion:
    """Motion from a yaw-rate signal at ``t`` and a speed signal at ``speed_t``."""
    dt = 1.0 / settings.rate_hz
    window = _window(settings)
    parts = []
    speed_blocks = gaps_split(speed_t, settings.max_gap_s)
    for sl, grid in _grid_blocks(t, settings):
        w = np.interp(grid, t[sl], yaw_rate[sl])
        v = np.full(grid.shape, np.nan)
        for ss in speed_blocks:
            st = speed_t[ss]
            inside = (grid >= st[0]) & (grid <= st[-1])
            v[inside] = np.interp(grid[inside], st, speed[ss])
        known = np.isfinite(v)
        for piece in gaps_split(np.flatnonzero(known).astype(np.float64), 1.0):
            idx = np.flatnonzero(known)[piece]
            if idx.size < window:
                continue
            g, vv, ww = grid[idx], np.abs(v[idx]), w[idx]
            moving = vv >= settings.min_speed
            a_lat = savgol(np.where(moving, vv * ww, 0.0), window, settings.order, 0, dt)
            parts.append((g, vv, np.where(moving, ww, 0.0), np.where(moving, a_lat, 0.0)))
    return _finish(source, settings, parts)


def from_odometry(
    t: np.ndarray, vx: np.ndarray, wz: np.ndarray, settings: MotionSettings = MotionSettings()
) -> Motion:
    """Motion from odometry: forward speed ``twist.linear.x`` and yaw rate ``twist.angular.z``."""
    t = np.asarray(t, dtype=np.float64)
    return _from_rates("odometry", t, t, np.asarray(vx), np.asarray(wz), settings)


STILL_RATE = 0.05  # rad/s: below it the vehicle counts as not turning (for finding the vertical)


def vertical_rate(gyro: np.ndarray, accel: np.ndarray) -> np.ndarray:
    """Gyro rate about the vertical, so any IMU mounting works.

    The vertical is the mean accelerometer direction over the samples where the vehicle is not
    turning (|gyro| < 0.05 rad/s; all samples if fewer than 10 are), where the accelerometer
    reads gravity plus little lateral acceleration; +z if that mean is below 1 m/s^2.
    """
    gyro = np.asarray(gyro, dtype=np.float64).reshape(-1, 3)
    accel = np.asarray(accel, dtype=np.float64).reshape(-1, 3)
    still = np.linalg.norm(gyro, axis=1) < STILL_RATE
    chosen = accel[still] if int(still.sum()) >= 10 else accel
    mean = chosen.mean(axis=0) if len(chosen) else np.zeros(3)
    norm = float(np.linalg.norm(mean))
    up = mean / norm if norm > 1.0 else np.array([0.0, 0.0, 1.0])
    return gyro @ up


def from_imu(
    t: np.ndarray,
    gyro: np.ndarray,
    accel: np.ndarray,
    speed_t: np.ndarray,
    speed: np.ndarray,
    settings: MotionSettings = MotionSettings(),
) -> Motion:
    """Motion from an IMU (N x 3 gyro, N x 3 accelerometer) and a speed signal."""
    t = np.asarray(t, dtype=np.float64)
    return _from_rates(
        "imu",
        t,
        np.asarray(speed_t, dtype=np.float64),
        np.asarray(speed),
        vertical_rate(gyro, accel),
        settings,
    )

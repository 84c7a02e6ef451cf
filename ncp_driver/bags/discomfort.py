"""Lateral discomfort: lateral acceleration and lateral jerk over autonomous driving.

Signals come from every source the bag has (GPS, odometry, IMU), computed as described in
:mod:`ncp_driver.bags.motion` (uniform grid, Savitzky-Golay smoothing and derivatives,
``a_lat = speed x yaw rate``, ``jerk = d a_lat / dt``). Statistics use the grid samples where
the car moves (speed >= ``min_speed``) and, when the bag has an auto-mode flag, is autonomous
(debounced as for takeovers): RMS, 95th percentile and maximum of ``|a_lat|`` and ``|jerk|``,
and the share of that time above the nuPlan comfort limits (:mod:`ncp_driver.comfort`:
|a_lat| > 4.89 m/s^2, |jerk| > 8.37 m/s^3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver.bags.errors import BagError
from ncp_driver.bags.modes import ModeTimeline
from ncp_driver.bags.motion import Motion, MotionSettings, from_gps, from_imu, from_odometry
from ncp_driver.bags.output import check_new
from ncp_driver.bags.reader import Recording
from ncp_driver.bags.series import Series, load_roles, valid_fixes
from ncp_driver.comfort import JERK_LIMIT_MPS3, LATERAL_LIMIT_MPS2
from ncp_driver.schemas import Discomfort, DiscomfortLimits, DiscomfortSource
from ncp_driver.takeover import DEFAULT_MIN_DURATION_S

__all__ = [
    "DiscomfortReport",
    "SourceStats",
    "discomfort_report",
    "motions",
    "recording_discomfort",
]


SourceStats = DiscomfortSource
"""Statistics of one source (None when there are none): the ``discomfort.json`` schema's type."""


@dataclass(frozen=True)
class DiscomfortReport:
    """Per-source statistics; ``to_json()`` gives the ``--json`` document."""

    bags: list[str]
    scope: str  # "autonomous" or "all driving"
    auto_topic: str | None
    settings: MotionSettings
    sources: list[SourceStats]
    skipped_messages: dict[str, int] = field(default_factory=dict)
    plot: Path | None = None  # the plot, when one was written

    def document(self) -> Discomfort:
        """The ``--json`` document / ``discomfort.json`` (:class:`ncp_driver.schemas.Discomfort`)."""
        return Discomfort(
            bags=self.bags,
            scope=self.scope,
            auto_topic=self.auto_topic,
            limits=DiscomfortLimits(a_lat_mps2=LATERAL_LIMIT_MPS2, jerk_mps3=JERK_LIMIT_MPS3),
            settings=asdict(self.settings),
            sources=list(self.sources),
            skipped_messages=self.skipped_messages,
            plot=None if self.plot is None else str(self.plot),
        )

    def to_json(self) -> dict[str, Any]:
        return self.document().to_json()

    def table(self) -> str:
        def num(value: float | None, fmt: str = ".3f") -> str:
            return "-" if value is None else format(value, fmt)

        lines = [
            f"bags:   {', '.join(self.bags)}",
            f"scope:  {self.scope}" + (f" ({self.auto_topic})" if self.auto_topic else ""),
            f"limits: |a_lat| {LATERAL_LIMIT_MPS2} m/s^2, |jerk| {JERK_LIMIT_MPS3} m/s^3 (nuPlan)",
            f"filter: {self.settings.rate_hz:g} Hz grid, Savitzky-Golay order "
            f"{self.settings.order} over {self.settings.window_s:g} s, "
            f"speed >= {self.settings.min_speed:g} m/s",
            "",
            f"{'source':<10} {'time (s)':>9} {'a_lat rms':>10} {'p95':>7} {'max':>7} "
            f"{'>lim %':>7} {'jerk rms':>9} {'p95':>7} {'max':>7} {'>lim %':>7}",
        ]
        for s in self.sources:
            share_a = None if s.a_lat_over_limit_share is None else 100 * s.a_lat_over_limit_share
            share_j = None if s.jerk_over_limit_share is None else 100 * s.jerk_over_limit_share
            lines.append(
                f"{s.source:<10} {s.duration_s:>9.1f} {num(s.a_lat_rms):>10} {num(s.a_lat_p95):>7} "
                f"{num(s.a_lat_max):>7} {num(share_a, '.2f'):>7} {num(s.jerk_rms):>9} "
                f"{num(s.jerk_p95):>7} {num(s.jerk_max):>7} {num(share_j, '.2f'):>7}"
            )
        for topic, n in sorted(self.skipped_messages.items()):
            lines.append(f"skipped {n} undecodable message(s) on {topic}")
        if self.plot is not None:
            lines.append(f"plot: {self.plot}")
        return "\n".join(lines)


def motions(
    gps: Series | None,
    odometry: Series | None,
    imu: Series | None,
    settings: MotionSettings,
) -> list[tuple[Motion, str]]:
    """(motion, topic) for every source present with messages."""
    out: list[tuple[Motion, str]] = []
    gps_motion: Motion | None = None
    if gps is not None and len(gps):
        gps_motion = from_gps(*valid_fixes(gps), settings)
        out.append((gps_motion, gps.topic))
    if odometry is not None and len(odometry):
        out.append(
            (
                from_odometry(odometry.stamp, odometry["vx"], odometry["wz"], settings),
                odometry.topic,
            )
        )
    if imu is not None and len(imu):
        gyro = np.column_stack([imu["wx"], imu["wy"], imu["wz"]])
        accel = np.column_stack([imu["ax"], imu["ay"], imu["az"]])
        if odometry is not None and len(odometry):
            speed_t, speed = odometry.stamp, np.abs(odometry["vx"])
        elif gps_motion is not None:
            speed_t, speed = gps_motion.t, gps_motion.speed
        else:
            speed_t = speed = np.empty(0)
        if speed_t.size:
            out.append((from_imu(imu.stamp, gyro, accel, speed_t, speed, settings), imu.topic))
    return out


def _stats(motion: Motion, topic: str, mask: np.ndarray) -> SourceStats:
    a = np.abs(motion.a_lat[mask])
    j = np.abs(motion.jerk[mask])
    n = int(a.size)

    def agg(x: np.ndarray, f: str) -> float | None:
        if x.size == 0:
            return None
        if f == "rms":
            return float(np.sqrt(np.mean(x**2)))
        if f == "p95":
            return float(np.percentile(x, 95))
        return float(x.max())

    return SourceStats(
        source=motion.source,
        topic=topic,
        samples=n,
        duration_s=n * motion.dt,
        a_lat_rms=agg(a, "rms"),
        a_lat_p95=agg(a, "p95"),
        a_lat_max=agg(a, "max"),
        jerk_rms=agg(j, "rms"),
        jerk_p95=agg(j, "p95"),
        jerk_max=agg(j, "max"),
        a_lat_over_limit_share=float(np.mean(a > LATERAL_LIMIT_MPS2)) if n else None,
        jerk_over_limit_share=float(np.mean(j > JERK_LIMIT_MPS3)) if n else None,
    )


def discomfort_report(
    sources: list[tuple[Motion, str]],
    timeline: ModeTimeline | None,
    bags: list[str],
    settings: MotionSettings,
    auto_topic: str | None = None,
    skipped: dict[str, int] | None = None,
) -> DiscomfortReport:
    """Statistics per source over autonomous driving (all driving without a timeline)."""
    stats = []
    for motion, topic in sources:
        mask = motion.moving.copy()
        if timeline is not None:
            mask &= timeline.at(motion.t)
        stats.append(_stats(motion, topic, mask))
    return DiscomfortReport(
        bags=bags,
        scope="autonomous" if timeline is not None else "all driving",
        auto_topic=auto_topic,
        settings=settings,
        sources=stats,
        skipped_messages=dict(skipped or {}),
    )


def recording_discomfort(
    recording: Recording,
    settings: MotionSettings,
    given: Mapping[str, str | None] | None = None,
    min_duration_s: float = DEFAULT_MIN_DURATION_S,
    all_driving: bool = False,
    plot_path: Path | None = None,
    force: bool = False,
    progress: Callable[[Iterable[Any], int], Iterable[Any]] | None = None,
) -> DiscomfortReport:
    """``ncp-bag discomfort``: the report of a recording over autonomous driving (all driving
    with ``all_driving`` or without an auto-mode flag), and its plot at ``plot_path`` if given."""
    if plot_path is not None:
        check_new([plot_path], force)
    optional = ["gps", "odometry", "imu"] + ([] if all_driving else ["auto"])
    series = load_roles(recording, given or {}, [], optional, progress)
    if not any(role in series for role in ("gps", "odometry", "imu")):
        raise BagError(
            f"{recording.describe()}: no GPS, odometry or IMU topic with messages, so no lateral "
            f"acceleration; its topics: {recording.topic_list()}"
        )
    auto = series.get("auto")
    end = recording.end_ns * 1e-9
    timeline = ModeTimeline.from_series(auto, end, min_duration_s) if auto is not None else None
    sources = motions(series.get("gps"), series.get("odometry"), series.get("imu"), settings)
    report = discomfort_report(
        sources,
        timeline,
        [str(p) for p in recording.paths],
        settings,
        auto.topic if auto is not None else None,
        dict(recording.skipped),
    )
    if plot_path is None:
        return report
    from ncp_driver.bags.plots import plot_discomfort

    plot_discomfort(plot_path, sources, timeline, recording.start_ns * 1e-9, force=force)
    return replace(report, plot=plot_path)

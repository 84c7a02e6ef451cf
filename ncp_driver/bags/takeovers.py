"""The paper's crash count from a bag: takeovers, autonomous time and distance, rates.

A takeover is an autonomous-to-manual transition of the debounced auto-mode flag
(:mod:`ncp_driver.takeover`), stamped at its first manual sample. Autonomous time is the length
of the autonomous stretches (the last stretch runs to the end of the recording). Autonomous
distance sums the steps between consecutive valid GPS fixes (status >= 0) that are both in
autonomous mode, in local metres. A takeover's position is interpolated between the GPS fixes
around it (none if they are more than ``max_gap_s`` apart); its speed is ``|twist.linear.x|`` from
odometry when the bag has it, else the GPS speed (:mod:`ncp_driver.bags.motion`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ncp_driver.bags.modes import ModeTimeline
from ncp_driver.bags.motion import Motion, MotionSettings, from_gps
from ncp_driver.bags.output import check_new
from ncp_driver.bags.reader import Recording
from ncp_driver.bags.series import Series, load_roles, valid_fixes
from ncp_driver.geo import step_lengths_m
from ncp_driver.schemas import Segment, TakeoverEvent, Takeovers
from ncp_driver.takeover import DEFAULT_MIN_DURATION_S

__all__ = ["Takeover", "TakeoverReport", "recording_takeovers", "takeover_report", "utc_text"]


Takeover = TakeoverEvent
"""One autonomous-to-manual transition: the ``takeovers.json`` schema's own event type."""


@dataclass(frozen=True)
class TakeoverReport:
    """Counts and rates of a recording; ``to_json()`` gives the ``--json`` document."""

    bags: list[str]
    auto_topic: str
    gps_topic: str | None
    speed_source: str | None
    min_duration_s: float
    recording_s: float
    count: int
    autonomous_s: float
    autonomous_m: float | None
    takeovers: list[Takeover]
    segments: list[tuple[bool, float, float]] = field(default_factory=list)
    skipped_messages: dict[str, int] = field(default_factory=dict)
    map: Path | None = None  # the GPS track map, when one was written

    @property
    def per_hour(self) -> float | None:
        return self.count / (self.autonomous_s / 3600.0) if self.autonomous_s > 0 else None

    @property
    def per_km(self) -> float | None:
        if self.autonomous_m is None or self.autonomous_m <= 0:
            return None
        return self.count / (self.autonomous_m / 1000.0)

    def document(self) -> Takeovers:
        """The ``--json`` document / ``takeovers.json`` (:class:`ncp_driver.schemas.Takeovers`)."""
        return Takeovers(
            bags=self.bags,
            auto_topic=self.auto_topic,
            gps_topic=self.gps_topic,
            speed_source=self.speed_source,
            min_duration_s=self.min_duration_s,
            recording_s=self.recording_s,
            takeovers=self.count,
            autonomous_s=self.autonomous_s,
            autonomous_km=None if self.autonomous_m is None else self.autonomous_m / 1000.0,
            takeovers_per_hour=self.per_hour,
            takeovers_per_km=self.per_km,
            events=list(self.takeovers),
            segments=[Segment(a, s, e) for a, s, e in self.segments],
            skipped_messages=self.skipped_messages,
            map=None if self.map is None else str(self.map),
        )

    def to_json(self) -> dict[str, Any]:
        return self.document().to_json()

    def table(self) -> str:
        def num(value: float | None, fmt: str) -> str:
            return "-" if value is None else format(value, fmt)

        lines = [
            f"bags:              {', '.join(self.bags)}",
            f"auto-mode topic:   {self.auto_topic} (debounced {self.min_duration_s:g} s)",
            f"GPS topic:         {self.gps_topic or '-'}",
            f"speed from:        {self.speed_source or '-'}",
            f"recording:         {self.recording_s:.1f} s",
            f"autonomous:        {self.autonomous_s:.1f} s, "
            f"{num(None if self.autonomous_m is None else self.autonomous_m / 1000, '.3f')} km",
            f"takeovers:         {self.count}",
            f"per hour:          {num(self.per_hour, '.2f')}",
            f"per km:            {num(self.per_km, '.2f')}",
        ]
        if self.takeovers:
            lines.append("")
            lines.append(
                f"{'#':>3}  {'stamp (s)':>20}  {'time (UTC)':<24}  {'t+ (s)':>9}  "
                f"{'latitude':>12}  {'longitude':>12}  {'speed (m/s)':>11}"
            )
            for t in self.takeovers:
                lines.append(
                    f"{t.number:>3}  {t.stamp:>20.3f}  {t.time_utc:<24}  {t.since_start_s:>9.3f}  "
                    f"{num(t.latitude, '.7f'):>12}  {num(t.longitude, '.7f'):>12}  "
                    f"{num(t.speed_mps, '.2f'):>11}"
                )
        for topic, n in sorted(self.skipped_messages.items()):
            lines.append(f"skipped {n} undecodable message(s) on {topic}")
        if self.map is not None:
            lines.append(f"map: {self.map}")
        return "\n".join(lines)


def utc_text(stamp: float) -> str:
    """ISO 8601 UTC with milliseconds: ``2015-05-21T19:11:38.039Z``."""
    moment = dt.datetime.fromtimestamp(stamp, tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _position_at(
    t: float, gt: np.ndarray, lat: np.ndarray, lon: np.ndarray, max_gap_s: float
) -> tuple[float | None, float | None]:
    if gt.size == 0:
        return None, None
    i = int(np.searchsorted(gt, t, side="right"))
    if 0 < i < gt.size:
        t0, t1 = gt[i - 1], gt[i]
        if t1 - t0 <= max_gap_s:
            w = (t - t0) / (t1 - t0) if t1 > t0 else 0.0
            return float(lat[i - 1] + w * (lat[i] - lat[i - 1])), float(
                lon[i - 1] + w * (lon[i] - lon[i - 1])
            )
    nearest = int(np.argmin(np.abs(gt - t)))
    if abs(gt[nearest] - t) <= max_gap_s / 2:
        return float(lat[nearest]), float(lon[nearest])
    return None, None


def takeover_report(
    auto: Series,
    gps: Series | None,
    odometry: Series | None,
    start_s: float,
    end_s: float,
    min_duration_s: float,
    bags: list[str],
    motion: MotionSettings | None = None,
    skipped: dict[str, int] | None = None,
) -> TakeoverReport:
    """Count takeovers and measure autonomous time and distance (see the module docstring)."""
    motion = motion or MotionSettings()
    timeline = ModeTimeline.from_series(auto, end_s, min_duration_s)
    max_gap = motion.max_gap_s * 2
    gt = lat = lon = np.empty(0)
    distance: float | None = None
    gps_motion: Motion | None = None
    if gps is not None:
        gt, lat, lon = valid_fixes(gps)
        in_auto = timeline.at(gt)
        steps = step_lengths_m(lat, lon)
        distance = float(steps[in_auto[:-1] & in_auto[1:]].sum()) if steps.size else 0.0
        gps_motion = from_gps(gt, lat, lon, motion)

    speed_source: str | None = None
    if odometry is not None and len(odometry):
        speed_source = f"odometry {odometry.topic}"
    elif gps_motion is not None and len(gps_motion):
        speed_source = f"GPS {gps.topic}" if gps is not None else None

    events = []
    for number, idx in enumerate(timeline.takeover_indices(), start=1):
        t = float(timeline.stamps[idx])
        la, lo = _position_at(t, gt, lat, lon, max_gap)
        speed: float | None = None
        if odometry is not None and len(odometry):
            ot = odometry.stamp
            j = int(np.argmin(np.abs(ot - t)))
            if abs(ot[j] - t) <= max_gap / 2:
                speed = float(abs(odometry["vx"][j]))
        elif gps_motion is not None:
            value = float(gps_motion.at(np.array([t]), gps_motion.speed, tolerance=max_gap / 2)[0])
            speed = None if np.isnan(value) else value
        events.append(
            Takeover(
                number=number,
                stamp=t,
                time_utc=utc_text(t),
                since_start_s=t - start_s,
                latitude=la,
                longitude=lo,
                speed_mps=speed,
            )
        )
    return TakeoverReport(
        bags=bags,
        auto_topic=auto.topic,
        gps_topic=gps.topic if gps is not None else None,
        speed_source=speed_source,
        min_duration_s=min_duration_s,
        recording_s=end_s - start_s,
        count=len(events),
        autonomous_s=timeline.autonomous_time_s(),
        autonomous_m=distance,
        takeovers=events,
        segments=timeline.segments(),
        skipped_messages=dict(skipped or {}),
    )


def recording_takeovers(
    recording: Recording,
    given: Mapping[str, str | None] | None = None,
    min_duration_s: float = DEFAULT_MIN_DURATION_S,
    map_path: Path | None = None,
    force: bool = False,
    progress: Callable[[Iterable[Any], int], Iterable[Any]] | None = None,
) -> TakeoverReport:
    """``ncp-bag takeovers``: the report of a recording (topics found by type unless
    ``given``), and the GPS track map at ``map_path`` if given."""
    if map_path is not None:
        check_new([map_path], force)
    series = load_roles(recording, given or {}, ["auto"], ["gps", "odometry"], progress)
    end = recording.end_ns * 1e-9
    report = takeover_report(
        series["auto"],
        series.get("gps"),
        series.get("odometry"),
        recording.start_ns * 1e-9,
        end,
        min_duration_s,
        [str(p) for p in recording.paths],
        skipped=dict(recording.skipped),
    )
    if map_path is None:
        return report
    from ncp_driver.bags.plots import plot_takeover_map

    timeline = ModeTimeline.from_series(series["auto"], end, min_duration_s)
    gt, lat, lon = valid_fixes(series.get("gps"))
    plot_takeover_map(map_path, report, gt, lat, lon, timeline, force=force)
    return replace(report, map=map_path)

"""What the diagnostics say: figures of the last period and the OK / WARN / ERROR decision.

Pure: the node tells the monitor about frames, auto-mode messages and errors, then asks for a
:class:`HealthReport` once a period with the pipeline's counters and the watchdog state.

Levels (openpilot's and Autoware's conventions):

- ERROR: the watchdog holds commands back (no usable frame within ``watchdog_timeout_s``), or
  no frame arrived within ``startup_timeout_s`` of start, or the auto-mode flag was heard but
  not within ``auto_mode_timeout_s`` (manual assumed).
- WARN: waiting for the first frame; frames dropped above ``warn_drop_ratio`` in the period;
  processing latency p99 above ``warn_latency_p99_ms``; limits changed more than
  ``warn_limited_ratio`` of the period's commands; rejected, stale or non-finite frames in the
  period; no message on the auto-mode topic yet; a callback failed in the period.
- OK otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

from ncp_driver.runtime import FrameResult, FrameStatus, PipelineStats
from ncp_driver_ros.latency import RollingWindow
from ncp_driver_ros.settings import NodeSettings

__all__ = ["DriverMonitor", "HealthReport", "Level", "ModelInfo"]


class Level(IntEnum):
    """diagnostic_msgs/DiagnosticStatus levels."""

    OK = 0
    WARN = 1
    ERROR = 2
    STALE = 3


@dataclass(frozen=True)
class ModelInfo:
    """What the diagnostics say about the model in use."""

    path: str
    kind: str
    provider: str
    model_hash: str


@dataclass(frozen=True)
class HealthReport:
    """One DiagnosticStatus worth of health: level, summary, and every figure as text."""

    level: Level
    name: str
    message: str
    hardware_id: str
    values: tuple[tuple[str, str], ...]

    def value(self, key: str) -> str:
        """The figure named ``key`` (KeyError if absent)."""
        for name, value in self.values:
            if name == key:
                return value
        raise KeyError(key)


@dataclass
class _Counters:
    frames_in: int = 0
    frames_dropped: int = 0
    frames_rejected: int = 0
    frames_stale: int = 0
    nonfinite_outputs: int = 0

    @classmethod
    def of(cls, stats: PipelineStats) -> _Counters:
        return cls(
            stats.frames_in,
            stats.frames_dropped,
            stats.frames_rejected,
            stats.frames_stale,
            stats.nonfinite_outputs,
        )


def _ms(seconds: float) -> str:
    return "nan" if math.isnan(seconds) else f"{seconds * 1000.0:.2f}"


class DriverMonitor:
    """Collects per-frame figures between diagnostics periods."""

    def __init__(
        self, settings: NodeSettings, model: ModelInfo, node_name: str, now: float
    ) -> None:
        self._settings = settings
        self._model = model
        self._name = f"{node_name}: steering"
        self._started_at: float | None = now if now > 0 else None  # ROS time 0: no /clock yet
        self._last_report_at = self._started_at
        self._last = _Counters()
        self._processing = RollingWindow(settings.latency_window)
        self._age = RollingWindow(settings.latency_window)
        self._frames_seen = 0
        self._commands_published = 0
        self._period_commands = 0
        self._period_limited = 0
        self._auto_messages = 0
        self._internal_errors = 0
        self._period_internal_errors = 0
        self._last_internal_error = ""

    def _start(self, now: float) -> None:
        if self._started_at is None and now > 0:
            self._started_at = now
            self._last_report_at = now

    def on_frame(self, result: FrameResult, now: float, published: bool) -> None:
        """A frame went through the pipeline; ``published`` if its command left the node."""
        self._start(now)
        self._frames_seen += 1
        if result.status is FrameStatus.OK:
            self._processing.add(result.total_s)
            self._age.add(now - result.stamp)
        if published and result.command is not None:
            self._commands_published += 1
            self._period_commands += 1
            if result.command.limited:
                self._period_limited += 1

    def on_auto_mode(self, now: float) -> None:
        self._start(now)
        self._auto_messages += 1

    def on_internal_error(self, where: str, error: BaseException) -> None:
        self._internal_errors += 1
        self._period_internal_errors += 1
        self._last_internal_error = f"{where}: {type(error).__name__}: {error}"

    def report(
        self,
        now: float,
        stats: PipelineStats,
        watchdog_tripped: bool,
        autonomous: bool,
        auto_mode_silent_s: float | None = None,
    ) -> HealthReport:
        """The period's report; starts the next period. ``auto_mode_silent_s``: how long the
        auto-mode flag has been silent when that is past its timeout (None otherwise)."""
        self._start(now)
        s = self._settings
        counters = _Counters.of(stats)
        last, self._last = self._last, counters
        since = self._last_report_at if self._last_report_at is not None else now
        period = now - since
        self._last_report_at = now
        new_in = counters.frames_in - last.frames_in
        new_dropped = counters.frames_dropped - last.frames_dropped
        rate = new_in / period if period > 0 else 0.0
        drop_ratio = new_dropped / (new_dropped + new_in) if new_dropped + new_in > 0 else 0.0
        limited_ratio = (
            self._period_limited / self._period_commands if self._period_commands else 0.0
        )
        bad = {
            "rejected": counters.frames_rejected - last.frames_rejected,
            "stale": counters.frames_stale - last.frames_stale,
            "non-finite": counters.nonfinite_outputs - last.nonfinite_outputs,
        }
        p99 = self._processing.p99

        errors: list[str] = []
        warnings: list[str] = []
        uptime = now - self._started_at if self._started_at is not None else 0.0
        if self._frames_seen == 0:
            if uptime > s.startup_timeout_s:
                errors.append(f"no camera frame on {s.camera} in {uptime:.1f} s since start")
            else:
                warnings.append(f"waiting for the first camera frame on {s.camera}")
        elif watchdog_tripped:
            errors.append("watchdog: no usable frame in time, commands held back")
        if auto_mode_silent_s is not None:
            errors.append(
                f"no message on {s.auto_mode_topic} for {auto_mode_silent_s:.1f} s: manual "
                "assumed, nothing autonomous commanded"
            )
        if drop_ratio > s.warn_drop_ratio:
            warnings.append(f"{drop_ratio:.0%} of frames dropped")
        if not math.isnan(p99) and p99 * 1000.0 > s.warn_latency_p99_ms:
            warnings.append(f"processing p99 {p99 * 1000.0:.1f} ms > {s.warn_latency_p99_ms:g} ms")
        if limited_ratio > s.warn_limited_ratio:
            warnings.append(f"limits changed {limited_ratio:.0%} of commands")
        warnings.extend(f"{count} {kind} frames" for kind, count in bad.items() if count > 0)
        if self._auto_messages == 0:
            warnings.append(f"no message on {s.auto_mode_topic} yet: manual mode assumed")
        if self._period_internal_errors:
            warnings.append(
                f"{self._period_internal_errors} callback errors ({self._last_internal_error})"
            )

        if errors:
            level, message = Level.ERROR, "; ".join(errors + warnings)
        elif warnings:
            level, message = Level.WARN, "; ".join(warnings)
        else:
            mode = "autonomous" if autonomous else "manual"
            level, message = Level.OK, f"steering at {rate:.1f} Hz ({mode})"

        values: list[tuple[str, str]] = [
            ("frame_rate_hz", f"{rate:.2f}"),
            ("frames_in", str(counters.frames_in)),
            ("frames_processed", str(stats.frames_processed)),
            ("frames_dropped", str(counters.frames_dropped)),
            ("drop_ratio", f"{drop_ratio:.3f}"),
            ("frames_rejected", str(counters.frames_rejected)),
            ("frames_stale", str(counters.frames_stale)),
            ("nonfinite_outputs", str(counters.nonfinite_outputs)),
            ("latency_processing_median_ms", _ms(self._processing.median)),
            ("latency_processing_p99_ms", _ms(p99)),
            ("latency_image_age_median_ms", _ms(self._age.median)),
            ("latency_image_age_p99_ms", _ms(self._age.p99)),
            ("latency_window_frames", str(len(self._processing))),
            ("commands_published", str(self._commands_published)),
            ("commands_limited_ratio", f"{limited_ratio:.3f}"),
        ]
        values += [
            (f"limit_{name}", str(count)) for name, count in sorted(stats.limit_counts.items())
        ]
        values.append(("resets_total", str(sum(stats.resets.values()))))
        values += [
            (f"resets_{reason}", str(count)) for reason, count in sorted(stats.resets.items())
        ]
        values += [
            ("autonomous", str(autonomous).lower()),
            ("auto_mode_messages", str(self._auto_messages)),
            ("auto_mode", "silent" if auto_mode_silent_s is not None else "ok"),
            ("watchdog", "holding commands" if watchdog_tripped else "ok"),
            ("internal_errors", str(self._internal_errors)),
            ("provider", stats.provider or self._model.provider),
            ("model_hash", stats.model_hash or self._model.model_hash),
            ("model_kind", self._model.kind),
            ("model_path", self._model.path),
        ]
        self._period_commands = 0
        self._period_limited = 0
        self._period_internal_errors = 0
        return HealthReport(
            level=level,
            name=self._name,
            message=message,
            hardware_id=(stats.model_hash or self._model.model_hash)[:12],
            values=tuple(values),
        )

"""``rclpy.logging``: loggers whose records the test can read (``context.logs``).

Mirrors ``rclpy.impl.rcutils_logger`` (Humble and Jazzy alike): each logger keeps one context
per *call site* (function, file, line, bytecode offset of the first caller outside rclpy), and
a call site may not change its severity, logger name, filters or filter parameters between
calls: rclpy raises ``ValueError("Logger severity cannot be changed between calls.")`` etc.
The filters ``throttle_duration_sec``, ``skip_first`` and ``once`` keep their state per call
site too. Throttling runs on the stand-in's simulated time (rclpy uses ``time.monotonic``), and
``throttle_time_source_type`` other than ``RCUTILS_STEADY_TIME`` raises ValueError as in rclpy.
"""

from __future__ import annotations

import inspect
import os
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from types import FrameType

    from rclpy_standin.context import Context

__all__ = ["LoggingSeverity", "RcutilsLogger", "get_logger"]

# The filters in rclpy's processing order, each with its parameters and defaults (None: required).
_FILTERS: dict[str, dict[str, Any]] = {
    "throttle": {"throttle_duration_sec": None, "throttle_time_source_type": "RCUTILS_STEADY_TIME"},
    "skip_first": {"skip_first": None},
    "once": {"once": None},
}


class LoggingSeverity:
    """rclpy.logging.LoggingSeverity (the names the stand-in records)."""

    UNSET = "UNSET"
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"
    FATAL = "FATAL"


class _CallerId(NamedTuple):
    function_name: str
    file_path: str
    line_number: int
    last_index: int  # two calls on one line differ here


def _caller() -> _CallerId:
    """The first frame outside this module, as rclpy's ``_find_caller``."""
    here = os.path.realpath(__file__)
    frame: FrameType | None = inspect.currentframe()
    while frame is not None and os.path.realpath(frame.f_code.co_filename) == here:
        frame = frame.f_back
    assert frame is not None
    return _CallerId(
        frame.f_code.co_name,
        os.path.abspath(frame.f_code.co_filename),
        frame.f_lineno,
        frame.f_lasti,
    )


def _detected_filters(kwargs: dict[str, Any]) -> list[str]:
    """rclpy's get_filters_from_kwargs: the filters asked for; TypeError for unknown options."""
    known = [param for params in _FILTERS.values() for param in params]
    for kwarg in kwargs:
        if kwarg not in known:
            raise TypeError(
                f'parameter "{kwarg}" is not one of the recognized logging options "{known}"'
            )
    detected = [name for name, params in _FILTERS.items() if any(kwargs.get(p) for p in params)]
    for name in detected:
        for param, default in _FILTERS[name].items():
            if param not in kwargs and default is None:
                raise TypeError(
                    f'required parameter "{param}" not specified but is required for the the '
                    f'logging filter "{name}"'
                )
    return detected


class RcutilsLogger:
    """rclpy's logger: debug/info/warning/warn/error/fatal(message, **features)."""

    def __init__(self, name: str = "", context: Context | None = None) -> None:
        self.name = name
        self._context = context
        self.contexts: dict[_CallerId, dict[str, Any]] = {}

    def get_child(self, name: str) -> RcutilsLogger:
        if not name:
            raise ValueError("Child logger name must not be empty.")
        return RcutilsLogger(f"{self.name}.{name}" if self.name else name, self._context)

    def _now_ns(self) -> int:
        context = self._context
        if context is None:
            from rclpy_standin import api

            context = api.get_default_context()
        return context.sim_time_ns

    def log(self, message: str, severity: str, **kwargs: Any) -> bool:
        name = kwargs.pop("name", self.name)
        detected = _detected_filters(kwargs)
        caller = _caller()
        context = self.contexts.get(caller)
        if context is None:
            context = {"name": name, "severity": severity, "filters": detected}
            for flt in detected:
                for param, default in _FILTERS[flt].items():
                    context[param] = kwargs.get(param, default)
            if context.get("throttle_time_source_type", "RCUTILS_STEADY_TIME") != (
                "RCUTILS_STEADY_TIME"
            ):
                raise ValueError(
                    f'Received throttle_time_source_type of "{context["throttle_time_source_type"]}"'
                    "; currently only RCUTILS_STEADY_TIME is supported"
                )
            context["throttle_last_logged"] = None
            context["first_has_been_skipped"] = False
            context["has_been_logged_once"] = False
            self.contexts[caller] = context
        else:
            if severity != context["severity"]:
                raise ValueError("Logger severity cannot be changed between calls.")
            if name != context["name"]:
                raise ValueError("Logger name cannot be changed between calls.")
            if detected != context["filters"]:
                raise ValueError("Requested logging filters cannot be changed between calls.")
            for flt in detected:
                if any(context[p] != kwargs.get(p, d) for p, d in _FILTERS[flt].items()):
                    raise ValueError("Logging filter parameters cannot be changed between calls.")
        if not isinstance(message, str):
            raise TypeError("message must be a str")
        for flt in context["filters"]:  # every filter updates its state, as in rclpy
            if not self._should_log(flt, context):
                return False
        target = self._context
        if target is None:
            from rclpy_standin import api

            target = api.get_default_context()
        target.log(name, severity, message)
        return True

    def _should_log(self, flt: str, context: dict[str, Any]) -> bool:
        if flt == "throttle":
            now = self._now_ns()
            last = context["throttle_last_logged"]
            if last is not None and now < last + context["throttle_duration_sec"] * 1e9:
                return False
            context["throttle_last_logged"] = now
            return True
        if flt == "skip_first":
            if not context["first_has_been_skipped"]:
                context["first_has_been_skipped"] = True
                return False
            return True
        if context["has_been_logged_once"]:
            return False
        context["has_been_logged_once"] = True
        return True

    def debug(self, message: str, **kwargs: Any) -> bool:
        return self.log(message, LoggingSeverity.DEBUG, **kwargs)

    def info(self, message: str, **kwargs: Any) -> bool:
        return self.log(message, LoggingSeverity.INFO, **kwargs)

    def warning(self, message: str, **kwargs: Any) -> bool:
        return self.log(message, LoggingSeverity.WARN, **kwargs)

    def warn(self, message: str, **kwargs: Any) -> bool:
        return self.warning(message, **kwargs)

    def error(self, message: str, **kwargs: Any) -> bool:
        return self.log(message, LoggingSeverity.ERROR, **kwargs)

    def fatal(self, message: str, **kwargs: Any) -> bool:
        return self.log(message, LoggingSeverity.FATAL, **kwargs)


def get_logger(name: str) -> RcutilsLogger:
    """A new logger object (with its own call-site contexts), as rclpy's."""
    return RcutilsLogger(name)

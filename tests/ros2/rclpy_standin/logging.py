"""``rclpy.logging``: loggers whose records the test can read (``context.logs``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rclpy_standin.context import Context

__all__ = ["RcutilsLogger", "get_logger"]

_FEATURES = {"throttle_duration_sec", "throttle_time_source_type", "skip_first", "once"}


class RcutilsLogger:
    """rclpy's logger: debug/info/warning/warn/error/fatal(message, **features)."""

    def __init__(self, name: str, context: Context | None = None) -> None:
        self.name = name
        self._context = context
        self._once: set[str] = set()
        self._last: dict[str, int] = {}
        self._seen: set[str] = set()

    def get_child(self, name: str) -> RcutilsLogger:
        return RcutilsLogger(f"{self.name}.{name}", self._context)

    def _log(self, severity: str, message: str, **kwargs: Any) -> bool:
        unknown = set(kwargs) - _FEATURES
        if unknown:
            raise TypeError(f"unknown logging features {sorted(unknown)}")  # rclpy: ValueError-ish
        if not isinstance(message, str):
            raise TypeError("message must be a str")
        caller = f"{severity}:{message if kwargs.get('once') else ''}"
        if kwargs.get("once"):
            if caller in self._once:
                return False
            self._once.add(caller)
        if kwargs.get("skip_first") and severity not in self._seen:
            self._seen.add(severity)
            return False
        throttle = kwargs.get("throttle_duration_sec")
        if throttle and self._context is not None:
            key = f"{severity}:throttle"
            now = self._context.sim_time_ns
            last = self._last.get(key)
            if last is not None and now - last < throttle * 1e9:
                return False
            self._last[key] = now
        context = self._context
        if context is None:
            from rclpy_standin import api

            context = api.get_default_context()
        context.log(self.name, severity, message)
        return True

    def debug(self, message: str, **kwargs: Any) -> bool:
        return self._log("DEBUG", message, **kwargs)

    def info(self, message: str, **kwargs: Any) -> bool:
        return self._log("INFO", message, **kwargs)

    def warning(self, message: str, **kwargs: Any) -> bool:
        return self._log("WARN", message, **kwargs)

    warn = warning

    def error(self, message: str, **kwargs: Any) -> bool:
        return self._log("ERROR", message, **kwargs)

    def fatal(self, message: str, **kwargs: Any) -> bool:
        return self._log("FATAL", message, **kwargs)


def get_logger(name: str) -> RcutilsLogger:
    return RcutilsLogger(name)

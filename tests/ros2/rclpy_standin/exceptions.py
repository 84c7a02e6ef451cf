"""rclpy's non-parameter exceptions: ``NotInitializedException`` and the C layer's ``RCLError``."""

from __future__ import annotations

__all__ = ["NotInitializedException", "RCLError"]


class NotInitializedException(Exception):
    """rclpy.exceptions.NotInitializedException: rclpy.init() has not been called."""

    def __init__(self, *args: object) -> None:
        Exception.__init__(self, "rclpy.init() has not been called", *args)


class RCLError(RuntimeError):
    """rclpy._rclpy_pybind11.RCLError (pybind11 registers it as a RuntimeError subclass)."""

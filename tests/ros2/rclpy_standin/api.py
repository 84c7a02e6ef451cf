"""The top-level ``rclpy`` functions: init, ok, shutdown, try_shutdown, spin, spin_once."""

from __future__ import annotations

from typing import Any

from rclpy_standin.context import Context
from rclpy_standin.executors import SingleThreadedExecutor
from rclpy_standin.messages import MessageFactory

__all__ = [
    "create_node",
    "get_default_context",
    "get_global_executor",
    "init",
    "ok",
    "shutdown",
    "spin",
    "spin_once",
    "try_shutdown",
]

_state: dict[str, Any] = {}
DISTROS = ("jazzy", "humble")
_distro = ["jazzy"]  # which rclpy the stand-in follows where they differ (set by installed())


def distro() -> str:
    """Stand-in only: "jazzy" or "humble"."""
    return _distro[0]


def set_distro(name: str) -> None:
    if name not in DISTROS:
        raise ValueError(f"the stand-in follows {DISTROS}, not {name!r}")
    _distro[0] = name


def reset(factory: MessageFactory) -> Context:
    """Stand-in only: a fresh default context and global executor."""
    _state.clear()
    _state["factory"] = factory
    _state["context"] = Context()
    return _state["context"]


def message_factory() -> MessageFactory:
    return _state["factory"]


def get_default_context(*, shutting_down: bool = False) -> Context:
    return _state["context"]


def init(
    *,
    args: list[str] | None = None,
    context: Context | None = None,
    domain_id: int | None = None,
    signal_handler_options: Any = None,
) -> None:
    (get_default_context() if context is None else context).init(args)


def ok(*, context: Context | None = None) -> bool:
    return (get_default_context() if context is None else context).ok()


def shutdown(*, context: Context | None = None, uninstall_handlers: bool | None = None) -> None:
    (get_default_context() if context is None else context).shutdown()


def try_shutdown(*, context: Context | None = None, uninstall_handlers: bool | None = None) -> None:
    (get_default_context() if context is None else context).try_shutdown()


def get_global_executor() -> SingleThreadedExecutor:
    if "executor" not in _state:
        _state["executor"] = SingleThreadedExecutor()
    return _state["executor"]


def create_node(node_name: str, **kwargs: Any) -> Any:
    from rclpy_standin.node import Node

    return Node(node_name, **kwargs)


def spin_once(node: Any, *, executor: Any = None, timeout_sec: float | None = None) -> None:
    executor = get_global_executor() if executor is None else executor
    try:
        executor.add_node(node)
        executor.spin_once(timeout_sec=timeout_sec)
    finally:
        executor.remove_node(node)


def spin(node: Any, executor: Any = None) -> None:
    """Run callbacks until the context shuts down (here: the idle hook decides, see executors)."""
    executor = get_global_executor() if executor is None else executor
    try:
        executor.add_node(node)
        executor.spin()
    finally:
        executor.remove_node(node)

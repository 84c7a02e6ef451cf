"""``rclpy.executors``: a single-threaded executor over the stand-in's middleware.

``spin_once`` runs one ready callback, as rclpy's does: due timers first, then subscriptions
(one message taken from the reader history), then services. A message published while no one
spins waits in the subscription's history, where KEEP_LAST depth N keeps only the newest N:
with depth 1, a frame arriving while the callback is busy replaces the queued one.

rclpy's ``spin`` blocks until shutdown. Here, when nothing is ready, ``spin`` calls the
context's ``on_idle`` hook (a test's script: publish more, move time, press Ctrl-C by raising
KeyboardInterrupt, or shut the context down as launch does); with no hook it raises
``StandInBlocked`` instead of hanging.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rclpy_standin.context import Context
    from rclpy_standin.node import Node

__all__ = [
    "ExternalShutdownException",
    "ShutdownException",
    "SingleThreadedExecutor",
    "StandInBlocked",
]


class ShutdownException(Exception):
    """Signal that executor was shut down."""


class ExternalShutdownException(Exception):
    """Context has been shutdown."""


class StandInBlocked(RuntimeError):
    """rclpy would block forever here: nothing is ready and no test hook says what happens."""


class SingleThreadedExecutor:
    """rclpy.executors.SingleThreadedExecutor(*, context=None)."""

    def __init__(self, *, context: Context | None = None) -> None:
        from rclpy_standin import api

        self._context = api.get_default_context() if context is None else context
        self._nodes: list[Node] = []
        self._is_shutdown = False

    @property
    def context(self) -> Context:
        return self._context

    def add_node(self, node: Node) -> bool:
        if node in self._nodes:
            return False
        self._nodes.append(node)
        return True

    def remove_node(self, node: Node) -> None:
        if node in self._nodes:
            self._nodes.remove(node)

    def get_nodes(self) -> list[Node]:
        return list(self._nodes)

    def shutdown(self, timeout_sec: float | None = None) -> bool:
        self._is_shutdown = True
        return True

    def _next_ready(self) -> Callable[[], None] | None:
        for node in self._nodes:
            for timer in node.timers:
                if timer.is_ready():
                    return timer.call
        for node in self._nodes:
            for sub in node.subscriptions:
                data = self._context.take(sub)
                if data is not None:
                    return _subscription_call(node, sub, data)
        for node in self._nodes:
            for service in node.services:
                if service.requests:
                    request, future = service.requests.pop(0)
                    return _service_call(service, request, future)
        return None

    def spin_once(self, timeout_sec: float | None = None) -> None:
        if self._is_shutdown:
            raise ShutdownException()
        if not self._context.ok():
            raise ExternalShutdownException()
        work = self._next_ready()
        if work is not None:
            work()

    def spin_until_idle(self, limit: int = 10_000) -> int:
        """Stand-in only: run ready callbacks until none is left; returns how many ran."""
        count = 0
        while count < limit:
            work = self._next_ready()
            if work is None:
                return count
            work()
            count += 1
        raise StandInBlocked(f"still busy after {limit} callbacks (a timer at period 0?)")

    def spin(self) -> None:
        while self._context.ok() and not self._is_shutdown:
            work = self._next_ready()
            if work is not None:
                work()
                continue
            hook = getattr(self._context, "on_idle", None)
            if hook is None:
                raise StandInBlocked("spin() would block forever: set context.on_idle in the test")
            hook()
            if not self._context.ok():
                raise ExternalShutdownException()


def _subscription_call(node: Node, sub: Any, data: bytes) -> Callable[[], None]:
    def call() -> None:
        msg = data if sub.raw else node._standin_messages.from_wire(data, sub.msg_type.__msgtype__)
        sub.callback(msg)

    return call


def _service_call(service: Any, request: Any, future: Any) -> Callable[[], None]:
    def call() -> None:
        response = service.callback(request, service.srv_type.Response())
        future.set_result(response)

    return call

"""``rclpy.context.Context`` plus what rcl and the middleware do for it in the stand-in.

A context owns: the parsed ``--ros-args`` (``-p name:=value``, ``--params-file``, ``-r``), the
simulated ROS time that tests move (``advance``), the in-process "middleware" that matches
publishers to subscriptions by topic, type and QoS and carries each message as CDR bytes, and
the log records of every logger created under it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML

from rclpy_standin.qos import HistoryPolicy, QoSProfile, compatible

if TYPE_CHECKING:
    from rclpy_standin.node import Node, Subscription

__all__ = ["Context", "LogRecord", "RosArgs"]


def _yaml_value(text: str) -> Any:
    """rcl parses ``-p`` values as YAML: ``1`` is an int, ``1.0`` a double, ``[a, b]`` a list."""
    value = YAML(typ="safe", pure=True).load(StringIO(text))
    return "" if value is None and text.strip() in ("", "''", '""') else value


@dataclass
class RosArgs:
    """What rcl keeps of ``--ros-args``: parameter overrides and remappings."""

    params: list[tuple[str, str, Any]] = field(default_factory=list)  # (node match, name, value)
    remaps: list[tuple[str, str]] = field(default_factory=list)
    node_name: str | None = None
    namespace: str | None = None

    @classmethod
    def parse(cls, args: list[str] | None) -> RosArgs:
        out = cls()
        if not args:
            return out
        in_ros = False
        it = iter(args)
        for arg in it:
            if arg == "--ros-args":
                in_ros = True
            elif arg == "--":
                in_ros = False
            elif in_ros and arg in ("-p", "--param"):
                name, _, value = next(it).partition(":=")
                out.params.append(("/**", name, _yaml_value(value)))
            elif in_ros and arg == "--params-file":
                out.params.extend(_params_file(Path(next(it))))
            elif in_ros and arg in ("-r", "--remap"):
                src, _, dst = next(it).partition(":=")
                if src == "__node":
                    out.node_name = dst
                elif src == "__ns":
                    out.namespace = dst
                else:
                    out.remaps.append((src, dst))
        return out

    def overrides_for(self, fqn: str) -> dict[str, Any]:
        """Parameter values that apply to the node ``fqn`` (``/ns/name``), later ones winning."""
        name = fqn.rsplit("/", 1)[-1]
        values: dict[str, Any] = {}
        for match, pname, value in self.params:
            if match in ("/**", fqn, name, fqn.lstrip("/"), f"/**/{name}"):
                values[pname] = value
        return values


def _params_file(path: Path) -> list[tuple[str, str, Any]]:
    """Read a ROS 2 parameter file: ``<node or /**>: {ros__parameters: {...}}``."""
    data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    out: list[tuple[str, str, Any]] = []
    if not isinstance(data, dict):
        raise RuntimeError(f"Failed to parse parameters file {path}: not a mapping")
    for node, body in data.items():
        if not isinstance(body, dict) or "ros__parameters" not in body:
            raise RuntimeError(
                f"Failed to parse parameters file {path}: {node!r} has no 'ros__parameters' key"
            )
        out.extend(
            (str(node), name, value) for name, value in _flatten("", body["ros__parameters"])
        )
    return out


def _flatten(prefix: str, mapping: dict[str, Any]) -> list[tuple[str, Any]]:
    """Nested parameter namespaces to dotted names."""
    out: list[tuple[str, Any]] = []
    for key, value in mapping.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        out.extend(_flatten(name, value) if isinstance(value, dict) else [(name, value)])
    return out


@dataclass
class LogRecord:
    logger: str
    severity: str
    message: str


@dataclass
class _Delivery:
    """A subscription's reader history: KEEP_LAST depth N replaces the oldest sample."""

    subscription: Subscription
    queue: deque[bytes]
    lost: int = 0  # samples replaced before the callback took them


class Context:
    """rclpy.context.Context."""

    def __init__(self) -> None:
        self._ok = False
        self.ros_args = RosArgs()
        self.sim_time_ns = 0
        self.logs: list[LogRecord] = []
        self.nodes: list[Node] = []
        self._readers: dict[int, _Delivery] = {}

    # --- rclpy API ------------------------------------------------------------------------

    def init(self, args: list[str] | None = None) -> None:
        if self._ok:
            raise RuntimeError("Context.init() must only be called once")
        self.ros_args = RosArgs.parse(args)
        self._ok = True

    def ok(self) -> bool:
        return self._ok

    def shutdown(self) -> None:
        if not self._ok:
            raise RuntimeError("Context must be initialized before it can be shutdown")
        self._ok = False

    def try_shutdown(self) -> None:
        self._ok = False

    # --- stand-in: time -------------------------------------------------------------------

    def set_time(self, seconds: float) -> None:
        """Set ROS time (what a /clock publisher does under use_sim_time)."""
        self.sim_time_ns = round(seconds * 1e9)

    def advance(self, seconds: float) -> None:
        self.sim_time_ns += round(seconds * 1e9)

    @property
    def now(self) -> float:
        return self.sim_time_ns * 1e-9

    # --- stand-in: the middleware ---------------------------------------------------------

    def add_reader(self, subscription: Subscription) -> None:
        qos: QoSProfile = subscription.qos_profile
        depth = (qos.depth or 1) if qos.history == HistoryPolicy.KEEP_LAST else None
        self._readers[id(subscription)] = _Delivery(subscription, deque(maxlen=depth))

    def remove_reader(self, subscription: Subscription) -> None:
        self._readers.pop(id(subscription), None)

    def deliver(self, topic: str, typename: str, qos: QoSProfile, data: bytes) -> int:
        """Hand CDR bytes to every matching reader; returns how many matched."""
        matched = 0
        for reader in self._readers.values():
            sub = reader.subscription
            if sub.topic_name != topic or sub.msg_type.__msgtype__ != typename:
                continue
            if not compatible(qos, sub.qos_profile):
                continue
            if reader.queue.maxlen is not None and len(reader.queue) == reader.queue.maxlen:
                reader.lost += 1
            reader.queue.append(data)
            matched += 1
        return matched

    def take(self, subscription: Subscription) -> bytes | None:
        reader = self._readers.get(id(subscription))
        if reader is None or not reader.queue:
            return None
        return reader.queue.popleft()

    def pending(self, subscription: Subscription) -> int:
        reader = self._readers.get(id(subscription))
        return len(reader.queue) if reader else 0

    def lost(self, subscription: Subscription) -> int:
        """Samples the reader history replaced before they were taken (a test's view)."""
        reader = self._readers.get(id(subscription))
        return reader.lost if reader else 0

    def subscriptions(self, topic: str) -> list[Subscription]:
        return [
            r.subscription for r in self._readers.values() if r.subscription.topic_name == topic
        ]

    def log(self, logger: str, severity: str, message: str) -> None:
        self.logs.append(LogRecord(logger, severity, message))

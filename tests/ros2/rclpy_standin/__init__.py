"""A small stand-in for the part of rclpy that the ncp_driver_ros node uses (test-only code).

rclpy cannot be installed where this project is built, so the node's unit tests run it against
this stand-in. It mirrors rclpy's real signatures and semantics (Humble and Jazzy; each module
says what it mirrors) and ROS 2's message classes, generated from rosbags' type store with
``rosidl_generator_py``'s field checks. Messages cross an in-process middleware as CDR bytes and
QoS decides delivery (KEEP_LAST depth N keeps the newest N; RELIABLE readers do not match
BEST_EFFORT writers). Time is simulated: tests move it, nothing reads the wall clock.

What it does not model: threads and real concurrency, DDS discovery and latency, parameter
services and events, QoS policies other than history/depth/reliability/durability, actions.

Use::

    with installed() as ros:           # puts rclpy, rclpy.*, and *_msgs modules in sys.modules
        import rclpy
        rclpy.init(args=[...])
        ...
        ros.context.advance(0.1)       # move ROS time
        ros.executor.spin_until_idle()
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from rosbags.typesys.store import Typestore

from rclpy_standin import api, context, exceptions, executors, logging, node, parameter, qos, time
from rclpy_standin.messages import MessageFactory

__all__ = ["MESSAGE_PACKAGES", "StandIn", "installed"]

MESSAGE_PACKAGES = (
    "ackermann_msgs",
    "builtin_interfaces",
    "diagnostic_msgs",
    "geometry_msgs",
    "nav_msgs",
    "rcl_interfaces",
    "sensor_msgs",
    "std_msgs",
)

_SERVICES: dict[str, dict[str, list[tuple[str, Any]]]] = {
    # std_srvs/srv/Trigger.srv: "---\nbool success\nstring message"
    "std_srvs/srv/Trigger": {
        "Request": [],
        "Response": [("success", (1, ("bool", 0))), ("message", (1, ("string", 0)))],
    },
    # std_srvs/srv/Empty.srv
    "std_srvs/srv/Empty": {"Request": [], "Response": []},
}


class _MessageModule(types.ModuleType):
    """``<pkg>.msg``: classes built on first access from the type store."""

    def __init__(self, name: str, package: str, factory: MessageFactory) -> None:
        super().__init__(name)
        self._package = package
        self._factory = factory

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        try:
            cls = self._factory.get(f"{self._package}/msg/{attr}")
        except ImportError as exc:
            raise AttributeError(f"module {self.__name__!r} has no attribute {attr!r}") from exc
        setattr(self, attr, cls)
        return cls


def _service_module(factory: MessageFactory, package: str) -> types.ModuleType:
    module = types.ModuleType(f"{package}.srv")
    for full, parts in _SERVICES.items():
        pkg, _, name = full.split("/")
        if pkg != package:
            continue
        attrs: dict[str, Any] = {}
        for part, fields in parts.items():
            typename = f"{full}_{part}"
            factory.define(typename, ([], fields))
            attrs[part] = factory.get(typename)
        setattr(module, name, type(name, (), attrs))
    return module


def _exceptions_module() -> types.ModuleType:
    module = types.ModuleType("rclpy.exceptions")
    for name in parameter.__all__:
        if name != "Parameter":
            setattr(module, name, getattr(parameter, name))
    module.NotInitializedException = exceptions.NotInitializedException  # type: ignore[attr-defined]
    return module


def _pybind_module() -> types.ModuleType:
    """``rclpy._rclpy_pybind11`` (also ``rclpy.impl.implementation_singleton.rclpy_implementation``)."""
    module = types.ModuleType("rclpy._rclpy_pybind11")
    module.RCLError = exceptions.RCLError  # type: ignore[attr-defined]
    return module


@dataclass
class StandIn:
    """Handles a test needs: the default context (time, logs, middleware) and the messages."""

    messages: MessageFactory

    @property
    def context(self) -> context.Context:
        return api.get_default_context()

    @property
    def executor(self) -> executors.SingleThreadedExecutor:
        return api.get_global_executor()

    def msg(self, typename: str) -> Any:
        """The class of ``pkg/msg/Name``."""
        return self.messages.get(typename)

    def srv(self, package: str, name: str) -> Any:
        """The service class ``package.srv.name`` (with its Request and Response)."""
        return getattr(sys.modules[f"{package}.srv"], name)


def _modules(factory: MessageFactory) -> dict[str, types.ModuleType]:
    modules: dict[str, types.ModuleType] = {
        "rclpy": api,
        "rclpy.node": node,
        "rclpy.qos": qos,
        "rclpy.executors": executors,
        "rclpy.exceptions": _exceptions_module(),
        "rclpy.parameter": parameter,
        "rclpy.time": time,
        "rclpy.clock": time,
        "rclpy.duration": time,
        "rclpy.logging": logging,
        "rclpy.context": context,
        "rclpy._rclpy_pybind11": _pybind_module(),
        "rclpy.impl": types.ModuleType("rclpy.impl"),
        "rclpy.impl.implementation_singleton": types.ModuleType(
            "rclpy.impl.implementation_singleton"
        ),
    }
    modules["rclpy.impl.implementation_singleton"].rclpy_implementation = modules[  # type: ignore[attr-defined]
        "rclpy._rclpy_pybind11"
    ]
    for sub in ("node", "qos", "executors", "exceptions", "parameter", "time", "clock", "logging"):
        setattr(api, sub, modules[f"rclpy.{sub}"])
    for package in MESSAGE_PACKAGES:
        pkg = types.ModuleType(package)
        msg = _MessageModule(f"{package}.msg", package, factory)
        pkg.msg = msg  # type: ignore[attr-defined]
        modules[package] = pkg
        modules[f"{package}.msg"] = msg
    srv_pkg = types.ModuleType("std_srvs")
    srv = _service_module(factory, "std_srvs")
    srv_pkg.srv = srv  # type: ignore[attr-defined]
    modules["std_srvs"] = srv_pkg
    modules["std_srvs.srv"] = srv
    return modules


@contextmanager
def installed(
    store: Typestore | None = None,
    purge: tuple[str, ...] = (),
    check_fields: bool | None = None,
    distro: str = "jazzy",
) -> Iterator[StandIn]:
    """Put the stand-in's modules in ``sys.modules`` for the block; take them out after.

    ``purge`` names modules that imported the stand-in (the node module) and must be dropped
    afterwards, so that nothing outside the block sees stand-in classes. ``check_fields``:
    message field checks as Humble (True) or Jazzy (False; None: ``ROS_PYTHON_CHECK_FIELDS``).
    ``distro``: ``"jazzy"`` or ``"humble"``, where their rclpy differs (Humble: fields always
    checked, no ``create_timer(autostart=)``, no ``Node(enable_logger_service=)``, no warning
    for a KEEP_LAST depth of 0).
    """
    if store is None:
        from ncp_driver.bags.typestore import make_typestore

        store = make_typestore()
    api.set_distro(distro)
    if distro == "humble":
        check_fields = True  # Humble's generated messages always check
    factory = MessageFactory(store, check_fields)
    modules = _modules(factory)
    clashes = [name for name in modules if name in sys.modules]
    if clashes:
        raise RuntimeError(
            f"modules {clashes} are already imported (a real ROS 2 or another stand-in): "
            "the stand-in would shadow them"
        )
    api.reset(factory)
    sys.modules.update(modules)
    try:
        yield StandIn(factory)
    finally:
        api.try_shutdown()
        api.set_distro("jazzy")
        for name in modules:
            sys.modules.pop(name, None)
        for name in list(sys.modules):
            if any(name == p or name.startswith(p + ".") for p in purge):
                del sys.modules[name]

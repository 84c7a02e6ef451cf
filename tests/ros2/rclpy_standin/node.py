"""``rclpy.node.Node`` and the entities it creates, with rclpy's signatures and semantics.

Mirrored (Jazzy; Humble where noted): the constructor's keyword arguments (Jazzy's
``enable_logger_service`` too; ``NotInitializedException`` before ``rclpy.init``);
``declare_parameter(s)`` with overrides taking precedence (an override rcl read as an empty
list, ``-p x:=[]`` or ``x: []`` in a file, has no type: the parameter comes back NOT_SET with
value None, in Humble and Jazzy alike), static typing from the default value (a ``1`` in a parameter file
for a double parameter raises ``InvalidParameterTypeException``), descriptor ranges enforced
(``InvalidParameterValueException``) and ``use_sim_time`` declared by the node itself;
``create_publisher(msg_type, topic, qos_profile, *, ...)``, ``create_subscription(msg_type,
topic, callback, qos_profile, *, ...)`` where an int QoS is a KEEP_LAST depth,
``create_timer(timer_period_sec, callback, callback_group=None, clock=None, autostart=True)``
(Jazzy; a period of 0 is accepted, a negative one raises RCLError),
``create_service(srv_type, srv_name, callback, *, qos_profile=..., callback_group=None)``;
topic names relative to the namespace, ``~`` for the node's own (``topic_name`` is resolved,
``topic`` and ``srv_name`` are the names as given); publish() refuses a message of another
type and sends ``bytes`` as serialized data.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from rclpy_standin.context import Context
from rclpy_standin.exceptions import NotInitializedException, RCLError
from rclpy_standin.logging import RcutilsLogger
from rclpy_standin.parameter import (
    InvalidParameterTypeException,
    InvalidParameterValueException,
    Parameter,
    ParameterAlreadyDeclaredException,
    ParameterNotDeclaredException,
    ParameterUninitializedException,
)
from rclpy_standin.qos import QoSProfile, as_profile, qos_profile_services_default
from rclpy_standin.time import S_TO_NS, Clock, ROSClock

__all__ = ["Client", "Future", "Node", "Publisher", "Service", "Subscription", "Timer"]

PARAM_REL_TOL = 1e-6


def _override(name: str, value: Any) -> Parameter:
    """A ``--ros-args`` override as rclpy gets it from rcl: an empty list has no type."""
    if isinstance(value, list) and not value:
        return Parameter(name, Parameter.Type.NOT_SET, None)
    return Parameter(name, value=value)


class Publisher:
    def __init__(
        self, node: Node, msg_type: type, topic: str, qos_profile: QoSProfile, given: str = ""
    ) -> None:
        self.node = node
        self.msg_type = msg_type
        self.topic_name = topic  # resolved
        self.topic = given or topic  # as given, as rclpy's Publisher.topic
        self.qos_profile = qos_profile
        self.published = 0

    def publish(self, msg: Any) -> None:
        if isinstance(msg, bytes):  # rclpy: publish_raw, serialized data as it is
            data = msg
        elif not isinstance(msg, self.msg_type):
            raise TypeError(f"Expected {self.msg_type}, got {type(msg)}")
        else:
            data = self.node._standin_messages.to_wire(msg)
        self.published += 1
        self.node.context.deliver(
            self.topic_name, self.msg_type.__msgtype__, self.qos_profile, data
        )

    def get_subscription_count(self) -> int:
        return len(self.node.context.subscriptions(self.topic_name))

    def destroy(self) -> None:
        self.node.destroy_publisher(self)


class Subscription:
    def __init__(
        self,
        node: Node,
        msg_type: type,
        topic: str,
        callback: Callable[[Any], None],
        qos_profile: QoSProfile,
        raw: bool,
        given: str = "",
    ) -> None:
        self.node = node
        self.msg_type = msg_type
        self.topic_name = topic  # resolved
        self.topic = given or topic  # as given
        self.callback = callback
        self.qos_profile = qos_profile
        self.raw = raw

    def destroy(self) -> None:
        self.node.destroy_subscription(self)


class Timer:
    """rclpy.timer.Timer: ready when the clock passes the next call time; late calls collapse."""

    def __init__(
        self, callback: Callable[[], None], period_ns: int, clock: Clock, autostart: bool = True
    ) -> None:
        self.callback = callback
        self.timer_period_ns = period_ns
        self.clock = clock
        self._next = clock.now().nanoseconds + period_ns
        self._canceled = not autostart

    def is_ready(self) -> bool:
        return not self._canceled and self.clock.now().nanoseconds >= self._next

    def call(self) -> None:
        now = self.clock.now().nanoseconds
        missed = max(0, (now - self._next) // self.timer_period_ns) if self.timer_period_ns else 0
        self._next += (missed + 1) * self.timer_period_ns
        self.callback()

    def cancel(self) -> None:
        self._canceled = True

    def reset(self) -> None:
        self._canceled = False
        self._next = self.clock.now().nanoseconds + self.timer_period_ns

    def is_canceled(self) -> bool:
        return self._canceled


class Future:
    """rclpy.task.Future (the part clients use)."""

    def __init__(self) -> None:
        self._result: Any = None
        self._done = False

    def done(self) -> bool:
        return self._done

    def result(self) -> Any:
        return self._result

    def set_result(self, result: Any) -> None:
        self._result = result
        self._done = True


class Service:
    def __init__(
        self, srv_type: Any, name: str, callback: Callable[[Any, Any], Any], given: str = ""
    ) -> None:
        self.srv_type = srv_type
        self.service_name = name  # resolved (Jazzy's Service.service_name)
        self.srv_name = given or name  # as given
        self.callback = callback
        self.requests: list[tuple[Any, Future]] = []


class Client:
    def __init__(self, node: Node, srv_type: Any, name: str, given: str = "") -> None:
        self.node = node
        self.srv_type = srv_type
        self.service_name = name
        self.srv_name = given or name

    def _server(self) -> Service | None:
        for node in self.node.context.nodes:
            for service in node._services:
                if service.service_name == self.service_name and service.srv_type is self.srv_type:
                    return service
        return None

    def service_is_ready(self) -> bool:
        return self._server() is not None

    def wait_for_service(self, timeout_sec: float | None = None) -> bool:
        return self.service_is_ready()

    def call_async(self, request: Any) -> Future:
        if not isinstance(request, self.srv_type.Request):
            raise TypeError(f"Expected {self.srv_type.Request}, got {type(request)}")
        future = Future()
        server = self._server()
        if server is not None:
            server.requests.append((request, future))
        return future


class Node:
    """rclpy.node.Node."""

    def __init__(
        self,
        node_name: str,
        *,
        context: Context | None = None,
        cli_args: list[str] | None = None,
        namespace: str | None = None,
        use_global_arguments: bool = True,
        enable_rosout: bool = True,
        start_parameter_services: bool = True,
        parameter_overrides: list[Parameter] | None = None,
        allow_undeclared_parameters: bool = False,
        automatically_declare_parameters_from_overrides: bool = False,
        enable_logger_service: bool | None = None,
    ) -> None:
        from rclpy_standin import api  # the installed default context and message factory

        if enable_logger_service is not None and api.distro() == "humble":
            raise TypeError("__init__() got an unexpected keyword argument 'enable_logger_service'")

        self.context = api.get_default_context() if context is None else context
        if not self.context.ok():
            raise NotInitializedException("cannot create node")
        self._standin_messages = api.message_factory()
        ros_args = self.context.ros_args
        self._name = ros_args.node_name or node_name
        namespace = ros_args.namespace or namespace or "/"
        self._namespace = namespace if namespace.startswith("/") else "/" + namespace
        self._remaps = list(ros_args.remaps) if use_global_arguments else []
        self._parameter_overrides: dict[str, Parameter] = {}
        if use_global_arguments:
            for name, value in ros_args.overrides_for(self.get_fully_qualified_name()).items():
                self._parameter_overrides[name] = _override(name, value)
        if cli_args:
            from rclpy_standin.context import RosArgs

            local = RosArgs.parse(cli_args)
            for name, value in local.overrides_for(self.get_fully_qualified_name()).items():
                self._parameter_overrides[name] = _override(name, value)
            self._remaps += local.remaps
        for param in parameter_overrides or []:
            self._parameter_overrides[param.name] = param
        self._parameters: dict[str, Parameter] = {}
        self._descriptors: dict[str, Any] = {}
        self._allow_undeclared_parameters = allow_undeclared_parameters
        self._publishers: list[Publisher] = []
        self._subscriptions: list[Subscription] = []
        self._timers: list[Timer] = []
        self._services: list[Service] = []
        self._clients: list[Client] = []
        self._clock = ROSClock(context=self.context)
        self._logger = RcutilsLogger(self._logger_name(), self.context)
        self.destroyed = False
        self.context.nodes.append(self)
        self.declare_parameter("use_sim_time", False)

    # --- names ----------------------------------------------------------------------------

    def get_name(self) -> str:
        return self._name

    def get_namespace(self) -> str:
        return self._namespace

    def get_fully_qualified_name(self) -> str:
        ns = self._namespace.rstrip("/")
        return f"{ns}/{self._name}"

    def _logger_name(self) -> str:
        ns = self._namespace.strip("/").replace("/", ".")
        return f"{ns}.{self._name}" if ns else self._name

    def resolve_topic_name(self, topic: str, *, only_expand: bool = False) -> str:
        if topic.startswith("~"):
            name = self.get_fully_qualified_name() + topic[1:]
        elif topic.startswith("/"):
            name = topic
        else:
            name = self._namespace.rstrip("/") + "/" + topic
        for src, dst in self._remaps:
            src_full = src if src.startswith("/") else self._namespace.rstrip("/") + "/" + src
            if name == src_full:
                return dst if dst.startswith("/") else self._namespace.rstrip("/") + "/" + dst
        return name

    # --- clock and logger -----------------------------------------------------------------

    def get_clock(self) -> ROSClock:
        return self._clock

    def get_logger(self) -> RcutilsLogger:
        return self._logger

    # --- parameters -----------------------------------------------------------------------

    def declare_parameter(
        self,
        name: str,
        value: Any = None,
        descriptor: Any = None,
        ignore_override: bool = False,
    ) -> Parameter:
        from rcl_interfaces.msg import ParameterDescriptor

        descriptor = ParameterDescriptor() if descriptor is None else descriptor
        return self.declare_parameters("", [(name, value, descriptor)], ignore_override)[0]

    def declare_parameters(
        self,
        namespace: str,
        parameters: list[tuple[Any, ...]],
        ignore_override: bool = False,
    ) -> list[Parameter]:
        from rcl_interfaces.msg import ParameterDescriptor

        declared = []
        for index, parameter_tuple in enumerate(parameters):
            if len(parameter_tuple) < 1 or len(parameter_tuple) > 3:
                raise TypeError(
                    f"Invalid parameter tuple length at index {index} in parameters list: "
                    f"{parameter_tuple}; expecting length between 1 and 3"
                )
            name = parameter_tuple[0]
            value = parameter_tuple[1] if len(parameter_tuple) > 1 else None
            descriptor = parameter_tuple[2] if len(parameter_tuple) > 2 else ParameterDescriptor()
            if not isinstance(name, str):
                raise TypeError(
                    f"First element {name} at index {index} in parameters list is not a str."
                )
            if not isinstance(descriptor, ParameterDescriptor):
                raise TypeError(
                    f"Third element {descriptor} at index {index} in parameters list "
                    "is not a ParameterDescriptor."
                )
            if isinstance(value, Parameter.Type):
                declared_type = value
                value = None
            else:
                declared_type = Parameter.Type.from_parameter_value(value)
            if not descriptor.dynamic_typing:
                descriptor.type = declared_type.value
            if not ignore_override and name in self._parameter_overrides:
                value = self._parameter_overrides[name].value
            if namespace:
                name = f"{namespace}.{name}"
            if name in self._parameters:
                raise ParameterAlreadyDeclaredException([name])
            parameter = Parameter(name, value=value)
            reason = self._check_descriptor(parameter, descriptor)
            if reason is not None:
                if reason.startswith("Wrong parameter type"):
                    raise InvalidParameterTypeException(
                        parameter, Parameter.Type(descriptor.type).name
                    )
                raise InvalidParameterValueException(name, value, reason)
            descriptor.name = name
            self._parameters[name] = parameter
            self._descriptors[name] = descriptor
            declared.append(parameter)
        return declared

    @staticmethod
    def _check_descriptor(parameter: Parameter, descriptor: Any) -> str | None:
        """rclpy's _apply_descriptor: the type check, then integer and floating-point ranges."""
        if descriptor.dynamic_typing:
            return None
        if parameter.type_ != Parameter.Type.NOT_SET and parameter.type_.value != descriptor.type:
            return (
                f"Wrong parameter type, expected '{Parameter.Type(descriptor.type)}' "
                f"got '{parameter.type_}'"
            )
        if parameter.type_ == Parameter.Type.INTEGER and descriptor.integer_range:
            rng = descriptor.integer_range[0]
            low, high = min(rng.from_value, rng.to_value), max(rng.from_value, rng.to_value)
            if parameter.value in (low, high):
                return None
            if not low < parameter.value < high:
                return (
                    f"Parameter {parameter.name} out of range. "
                    f"Min: {low}, Max: {high}, value: {parameter.value}"
                )
            if rng.step != 0 and (parameter.value - low) % rng.step != 0:
                return f"The parameter value for {parameter.name} is not a valid step."
        if parameter.type_ == Parameter.Type.DOUBLE and descriptor.floating_point_range:
            rng = descriptor.floating_point_range[0]
            low, high = min(rng.from_value, rng.to_value), max(rng.from_value, rng.to_value)
            if math.isclose(parameter.value, low, rel_tol=PARAM_REL_TOL) or math.isclose(
                parameter.value, high, rel_tol=PARAM_REL_TOL
            ):
                return None
            if not low < parameter.value < high:
                return (
                    f"Parameter {parameter.name} out of range "
                    f"Min: {low}, Max: {high}, value: {parameter.value}"
                )
        return None

    def has_parameter(self, name: str) -> bool:
        return name in self._parameters

    def get_parameter(self, name: str) -> Parameter:
        if name in self._parameters:
            parameter = self._parameters[name]
            if parameter.type_ != Parameter.Type.NOT_SET or self._descriptors[name].dynamic_typing:
                return parameter
            raise ParameterUninitializedException(name)  # statically typed, never set
        if self._allow_undeclared_parameters:
            return Parameter(name, Parameter.Type.NOT_SET, None)
        raise ParameterNotDeclaredException(name)

    def get_parameters(self, names: list[str]) -> list[Parameter]:
        return [self.get_parameter(name) for name in names]

    def describe_parameter(self, name: str) -> Any:
        if name not in self._descriptors:
            raise ParameterNotDeclaredException(name)
        return self._descriptors[name]

    # --- entities -------------------------------------------------------------------------

    def create_publisher(
        self,
        msg_type: type,
        topic: str,
        qos_profile: QoSProfile | int,
        *,
        callback_group: Any = None,
        event_callbacks: Any = None,
        qos_overriding_options: Any = None,
        publisher_class: Any = None,
    ) -> Publisher:
        publisher = Publisher(
            self, msg_type, self.resolve_topic_name(topic), as_profile(qos_profile), topic
        )
        self._publishers.append(publisher)
        return publisher

    def create_subscription(
        self,
        msg_type: type,
        topic: str,
        callback: Callable[[Any], None],
        qos_profile: QoSProfile | int,
        *,
        callback_group: Any = None,
        event_callbacks: Any = None,
        qos_overriding_options: Any = None,
        raw: bool = False,
    ) -> Subscription:
        subscription = Subscription(
            self,
            msg_type,
            self.resolve_topic_name(topic),
            callback,
            as_profile(qos_profile),
            raw,
            topic,
        )
        self._subscriptions.append(subscription)
        self.context.add_reader(subscription)
        return subscription

    def create_timer(
        self,
        timer_period_sec: float,
        callback: Callable[[], None],
        callback_group: Any = None,
        clock: Clock | None = None,
        autostart: bool | None = None,
    ) -> Timer:
        from rclpy_standin import api

        if autostart is not None and api.distro() == "humble":
            raise TypeError("create_timer() got an unexpected keyword argument 'autostart'")
        autostart = True if autostart is None else autostart
        period_ns = int(float(timer_period_sec) * S_TO_NS)
        if period_ns < 0:  # rcl_timer_init2: RCL_RET_INVALID_ARGUMENT; 0 is accepted
            raise RCLError("timer period must be non-negative, at ./src/rcl/timer.c")
        timer = Timer(callback, period_ns, self._clock if clock is None else clock, autostart)
        self._timers.append(timer)
        return timer

    def create_service(
        self,
        srv_type: Any,
        srv_name: str,
        callback: Callable[[Any, Any], Any],
        *,
        qos_profile: QoSProfile = qos_profile_services_default,
        callback_group: Any = None,
    ) -> Service:
        service = Service(srv_type, self.resolve_topic_name(srv_name), callback, srv_name)
        self._services.append(service)
        return service

    def create_client(
        self,
        srv_type: Any,
        srv_name: str,
        *,
        qos_profile: QoSProfile = qos_profile_services_default,
        callback_group: Any = None,
    ) -> Client:
        client = Client(self, srv_type, self.resolve_topic_name(srv_name), srv_name)
        self._clients.append(client)
        return client

    def destroy_publisher(self, publisher: Publisher) -> bool:
        if publisher in self._publishers:
            self._publishers.remove(publisher)
            return True
        return False

    def destroy_subscription(self, subscription: Subscription) -> bool:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
            self.context.remove_reader(subscription)
            return True
        return False

    def destroy_timer(self, timer: Timer) -> bool:
        if timer in self._timers:
            timer.cancel()
            self._timers.remove(timer)
            return True
        return False

    def destroy_service(self, service: Service) -> bool:
        if service in self._services:
            self._services.remove(service)
            return True
        return False

    def destroy_node(self) -> None:
        for subscription in list(self._subscriptions):
            self.destroy_subscription(subscription)
        for timer in list(self._timers):
            self.destroy_timer(timer)
        self._publishers.clear()
        self._services.clear()
        self._clients.clear()
        if self in self.context.nodes:
            self.context.nodes.remove(self)
        self.destroyed = True

    # --- what an executor needs -----------------------------------------------------------

    @property
    def publishers(self) -> list[Publisher]:
        return list(self._publishers)

    @property
    def subscriptions(self) -> list[Subscription]:
        return list(self._subscriptions)

    @property
    def timers(self) -> list[Timer]:
        return list(self._timers)

    @property
    def services(self) -> list[Service]:
        return list(self._services)

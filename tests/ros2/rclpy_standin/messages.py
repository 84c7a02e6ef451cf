"""ROS 2 message classes for the stand-in, with rosidl_generator_py's Python semantics.

Field names and types come from rosbags' type store (the real ``.msg`` definitions). The classes
behave as the ones ``rosidl_generator_py`` generates:

- every field is a keyword argument with a default (0, 0.0, False, '', ``bytes([0])`` for
  ``byte``, a default-built nested message, ``array.array`` for sequences of numbers, ``[]``);
- field checks. Humble always checks; Jazzy checks only with ``ROS_PYTHON_CHECK_FIELDS=1`` (read
  once, when the factory is made) or ``check_fields=True`` in the constructor, and otherwise
  stores what it is given and ignores unknown constructor arguments. Checked:
  ``float32``/``float64`` fields take ``float`` only (``numpy.float32`` is refused), integers
  take ``int`` in range, ``byte`` takes one ``bytes``, nested fields take the nested class,
  number sequences take ``array.array`` with the right type code or a sequence of Python
  numbers (not a ``numpy.ndarray``; unchecked, an ndarray is accepted and copied into an
  ``array.array``);
- unchecked values of the wrong type are garbled on the wire as rclpy's C conversion garbles
  them: a ``float`` field that does not hold a ``float`` goes out as 0.0 (``np.float32(0.25)``
  -> 0.0), a ``bool`` field that does not hold ``True`` as False (``Bool(data=1)`` -> False);
- constants are class attributes (``byte`` constants as ``bytes``).

``to_wire``/``from_wire`` run a message through CDR, the bytes ROS 2's middlewares send, using
rosbags' serialiser: what a subscriber receives in the stand-in has crossed the wire format.
"""

from __future__ import annotations

import array
import math
import os
from collections import UserList, UserString
from collections.abc import Sequence, Set
from typing import Any

import numpy as np
from rosbags.typesys.store import Typestore

__all__ = ["MessageFactory"]

_NUMERIC = {
    "float32": ("f", np.float32),
    "float64": ("d", np.float64),
    "int8": ("b", np.int8),
    "uint8": ("B", np.uint8),
    "int16": ("h", np.int16),
    "uint16": ("H", np.uint16),
    "int32": ("i", np.int32),
    "uint32": ("I", np.uint32),
    "int64": ("q", np.int64),
    "uint64": ("Q", np.uint64),
}
_FLOAT_BOUND = {"float32": 3.402823466e38, "float64": 1.7976931348623157e308}
# rosbags' names for the IDL types that are not in _NUMERIC.
_CHAR_AS = "uint8"  # ROS 2 maps msg ``char`` to uint8


def _int_bounds(name: str) -> tuple[int, int]:
    bits = int(name.removeprefix("u").removeprefix("int"))
    if name.startswith("u"):
        return 0, 2**bits
    return -(2 ** (bits - 1)), 2 ** (bits - 1)


class _Field:
    """One field of a message: how to default, check and convert it."""

    def __init__(self, factory: MessageFactory, name: str, spec: Any) -> None:
        kind, detail = spec
        self.name = name
        self.kind = int(kind)  # rosbags Nodetype: 1 BASE, 2 NAME, 3 ARRAY, 4 SEQUENCE
        self.factory = factory
        if self.kind in (3, 4):
            (sub_kind, sub_detail), self.size = detail
            self.sub_kind = int(sub_kind)
            self.base = sub_detail[0] if self.sub_kind == 1 else None
            self.nested = sub_detail if self.sub_kind == 2 else None
        else:
            self.size = 0
            self.sub_kind = self.kind
            self.base = detail[0] if self.kind == 1 else None
            self.nested = detail if self.kind == 2 else None
        if self.base == "char":
            self.base = _CHAR_AS

    @property
    def numeric_sequence(self) -> bool:
        return self.kind in (3, 4) and self.base in _NUMERIC

    def default(self) -> Any:
        if self.kind == 3:  # fixed-size array
            if self.base in _NUMERIC:
                return np.zeros(self.size, dtype=_NUMERIC[self.base][1])
            return [self._scalar_default() for _ in range(self.size)]
        if self.kind == 4:
            return array.array(_NUMERIC[self.base][0]) if self.base in _NUMERIC else []
        return self._scalar_default()

    def _scalar_default(self) -> Any:
        if self.nested is not None:
            return self.factory.get(self.nested)()
        return _BASE_DEFAULTS[self.base]

    def convert(self, value: Any, check: bool = True) -> Any:
        """Check ``value`` as rosidl_generator_py's setter does; return what it would store."""
        if not check:
            if self.kind == 3 and self.base in _NUMERIC and not isinstance(value, np.ndarray):
                return np.array(value, dtype=_NUMERIC[self.base][1])
            if self.kind == 4 and self.base in _NUMERIC and not isinstance(value, array.array):
                return array.array(_NUMERIC[self.base][0], value)
            return value
        if self.kind == 3 and self.base in _NUMERIC:
            dtype = _NUMERIC[self.base][1]
            if isinstance(value, np.ndarray):
                assert value.dtype == dtype, (
                    f"The '{self.name}' numpy.ndarray() must have dtype {dtype}"
                )
                assert value.size == self.size, (
                    f"The '{self.name}' numpy.ndarray() must have size {self.size}"
                )
                return value
            self._check_sequence(value)
            return np.array(value, dtype=dtype)
        if self.kind == 4 and self.base in _NUMERIC:
            code = _NUMERIC[self.base][0]
            if isinstance(value, array.array):
                assert value.typecode == code, (
                    f"The '{self.name}' array.array() must have the type code of '{code}'"
                )
                self._check_bound(value)
                return value
            self._check_sequence(value)
            return array.array(code, value)
        if self.kind in (3, 4):
            self._check_sequence(value)
            return value
        self._check_scalar(value)
        return value

    def _check_bound(self, value: Sequence[Any]) -> None:
        if self.kind == 3:
            assert len(value) == self.size, f"The '{self.name}' field must have length {self.size}"
        elif self.size:
            assert len(value) <= self.size, (
                f"The '{self.name}' field must have length <= {self.size}"
            )

    def _check_sequence(self, value: Any) -> None:
        assert isinstance(value, (Sequence, Set, UserList)) and not isinstance(
            value, (str, UserString)
        ), f"The '{self.name}' field must be a set or sequence (a numpy.ndarray is neither)"
        self._check_bound(value)
        for item in value:
            self._check_scalar(item)

    def _check_scalar(self, value: Any) -> None:
        if self.nested is not None:
            cls = self.factory.get(self.nested)
            assert isinstance(value, cls), (
                f"The '{self.name}' field must be a sub message of type '{cls.__name__}'"
            )
            return
        base = self.base
        if base == "bool":
            assert isinstance(value, bool), f"The '{self.name}' field must be of type 'bool'"
        elif base == "byte":
            assert isinstance(value, bytes) and len(value) == 1, (
                f"The '{self.name}' field must be of type 'bytes' or 'ByteString' with length 1"
            )
        elif base == "string":
            assert isinstance(value, str), f"The '{self.name}' field must be of type 'str'"
        elif base in _FLOAT_BOUND:
            assert isinstance(value, float), f"The '{self.name}' field must be of type 'float'"
            bound = _FLOAT_BOUND[base]
            assert not (value < -bound or value > bound) or math.isinf(value), (
                f"The '{self.name}' field must be a {base} in [{-bound}, {bound}]"
            )
        elif base in _NUMERIC:
            assert isinstance(value, int), f"The '{self.name}' field must be of type 'int'"
            low, high = _int_bounds(base)
            assert low <= value < high, (
                f"The '{self.name}' field must be an integer in [{low}, {high - 1}]"
            )
        else:  # pragma: no cover - a type this stand-in does not know
            raise AssertionError(f"unsupported field type {base!r} of {self.name!r}")


_BASE_DEFAULTS: dict[str | None, Any] = {
    "bool": False,
    "byte": bytes([0]),
    "string": "",
    "float32": 0.0,
    "float64": 0.0,
    **{name: 0 for name in _NUMERIC if name not in ("float32", "float64")},
}


class _Message:
    """Base of generated message classes."""

    __slots__: tuple[str, ...] = ()
    _fields: tuple[_Field, ...] = ()
    __msgtype__ = ""

    _factory_checks = True

    def __init__(self, **kwargs: Any) -> None:
        check = kwargs.pop("check_fields", None)
        object.__setattr__(self, "_check_fields", self._factory_checks if check is None else check)
        names = {f.name for f in self._fields}
        if self._check_fields:
            assert all(key in names for key in kwargs), (
                f"Invalid arguments passed to constructor: {sorted(set(kwargs) - names)}"
            )
        for field in self._fields:
            setattr(
                self, field.name, kwargs[field.name] if field.name in kwargs else field.default()
            )

    @classmethod
    def get_fields_and_field_types(cls) -> dict[str, str]:
        return {f.name: f.base or f.nested or "" for f in cls._fields}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, self.__class__):
            return False
        for field in self._fields:
            mine, theirs = getattr(self, field.name), getattr(other, field.name)
            if isinstance(mine, np.ndarray):
                if not np.array_equal(mine, theirs):
                    return False
            elif mine != theirs:
                return False
        return True

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        args = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in self._fields)
        return f"{self.__msgtype__.replace('/', '.')}({args})"


def _make_property(field: _Field) -> property:
    slot = "_" + field.name

    def getter(self: _Message) -> Any:
        return getattr(self, slot)

    def setter(self: _Message, value: Any) -> None:
        object.__setattr__(self, slot, field.convert(value, self._check_fields))

    return property(getter, setter, doc=f"Message field '{field.name}'.")


class MessageFactory:
    """Builds (and caches) stand-in message classes from a rosbags type store."""

    def __init__(self, store: Typestore, check_fields: bool | None = None) -> None:
        """``check_fields``: True as Humble, False as Jazzy by default, None: Jazzy's rule
        (``ROS_PYTHON_CHECK_FIELDS=1`` turns the checks on)."""
        self.store = store
        if check_fields is None:
            check_fields = os.environ.get("ROS_PYTHON_CHECK_FIELDS", "") == "1"
        self.check_fields = check_fields
        self._classes: dict[str, type] = {}
        self._extra: dict[str, tuple[list[Any], list[Any]]] = {}

    def define(self, typename: str, fielddefs: tuple[list[Any], list[Any]]) -> None:
        """Add a type the store lacks (service request and response parts)."""
        self._extra[typename] = fielddefs

    def get(self, typename: str) -> type:
        """The class for ``pkg/msg/Name`` (or a ``define``d name)."""
        cls = self._classes.get(typename)
        if cls is not None:
            return cls
        if typename in self._extra:
            consts, fields = self._extra[typename]
        elif typename in self.store.fielddefs:
            consts, fields = self.store.fielddefs[typename]
        else:
            raise ImportError(f"the stand-in has no message type {typename!r}")
        name = typename.rsplit("/", 1)[-1]
        field_objs = tuple(_Field(self, fname, spec) for fname, spec in fields)
        namespace: dict[str, Any] = {
            "__slots__": (*("_" + f.name for f in field_objs), "_check_fields"),
            "_factory_checks": self.check_fields,
            "_fields": field_objs,
            "__msgtype__": typename,
            "__module__": typename.rsplit("/", 1)[0].replace("/", "."),
            "__qualname__": name,
        }
        for field in field_objs:
            namespace[field.name] = _make_property(field)
        for cname, ctype, cvalue in consts:
            namespace[cname] = bytes([cvalue]) if ctype == "byte" else cvalue
        cls = type(name, (_Message,), namespace)
        self._classes[typename] = cls
        return cls

    # --- the wire -------------------------------------------------------------------------

    def to_wire(self, msg: Any) -> bytes:
        """CDR bytes of a stand-in message (what DDS carries for ROS 2)."""
        return bytes(self.store.serialize_cdr(self._to_rosbags(msg), msg.__msgtype__))

    def from_wire(self, data: bytes, typename: str) -> Any:
        """A stand-in message from CDR bytes, typed as rclpy's deserialiser types it."""
        return self._from_rosbags(self.store.deserialize_cdr(data, typename), typename)

    def _to_rosbags(self, msg: Any) -> Any:
        cls = self.store.types[msg.__msgtype__]
        values = {}
        for field in msg._fields:
            value = getattr(msg, field.name)
            if field.numeric_sequence:
                value = np.asarray(value, dtype=_NUMERIC[field.base][1])
            elif field.nested is not None:
                value = (
                    [self._to_rosbags(v) for v in value]
                    if field.kind in (3, 4)
                    else self._to_rosbags(value)
                )
            elif field.base == "byte":
                value = [v[0] for v in value] if field.kind in (3, 4) else value[0]
            elif field.kind == 1:
                value = _as_c_converts(field.base, value)
            values[field.name] = value
        return cls(**values)

    def _from_rosbags(self, obj: Any, typename: str) -> Any:
        cls = self.get(typename)
        values = {}
        for field in cls._fields:  # type: ignore[attr-defined]
            value = getattr(obj, field.name)
            if field.kind == 4 and field.base in _NUMERIC:
                code = _NUMERIC[field.base][0]
                out = array.array(code)
                out.frombytes(np.ascontiguousarray(value, dtype=_NUMERIC[field.base][1]).tobytes())
                value = out
            elif field.kind == 3 and field.base in _NUMERIC:
                value = np.array(value, dtype=_NUMERIC[field.base][1])
            elif field.nested is not None:
                value = (
                    [self._from_rosbags(v, field.nested) for v in value]
                    if field.kind in (3, 4)
                    else self._from_rosbags(value, field.nested)
                )
            elif field.base == "byte":
                value = [bytes([v]) for v in value] if field.kind in (3, 4) else bytes([value])
            elif field.base in _FLOAT_BOUND and field.kind == 1:
                value = float(value)
            elif field.base == "bool" and field.kind == 1:
                value = bool(value)
            elif field.base in _NUMERIC and field.kind == 1:
                value = int(value)
            values[field.name] = value
        return cls(**values)


def _as_c_converts(base: str | None, value: Any) -> Any:
    """What rclpy's C conversion makes of an unchecked scalar (garbage for the wrong type)."""
    if base in _FLOAT_BOUND:
        return value if isinstance(value, float) else 0.0
    if base == "bool":
        return value is True
    if base in _NUMERIC:
        return int(value) if hasattr(value, "__index__") else 0
    return value

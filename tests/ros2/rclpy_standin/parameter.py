"""``rclpy.parameter`` and ``rclpy.exceptions`` (the parameter part), as rclpy defines them."""

from __future__ import annotations

import array
from enum import Enum
from typing import Any

__all__ = [
    "InvalidParameterTypeException",
    "InvalidParameterValueException",
    "Parameter",
    "ParameterAlreadyDeclaredException",
    "ParameterException",
    "ParameterNotDeclaredException",
    "ParameterUninitializedException",
]


class Parameter:
    """rclpy.parameter.Parameter(name, type_=None, value=None)."""

    class Type(Enum):
        NOT_SET = 0
        BOOL = 1
        INTEGER = 2
        DOUBLE = 3
        STRING = 4
        BYTE_ARRAY = 5
        BOOL_ARRAY = 6
        INTEGER_ARRAY = 7
        DOUBLE_ARRAY = 8
        STRING_ARRAY = 9

        @classmethod
        def from_parameter_value(cls, parameter_value: Any) -> Parameter.Type:
            """rclpy's inference (an empty list is a BYTE_ARRAY, as in rclpy)."""
            if parameter_value is None:
                return Parameter.Type.NOT_SET
            if isinstance(parameter_value, bool):
                return Parameter.Type.BOOL
            if isinstance(parameter_value, int):
                return Parameter.Type.INTEGER
            if isinstance(parameter_value, float):
                return Parameter.Type.DOUBLE
            if isinstance(parameter_value, str):
                return Parameter.Type.STRING
            if isinstance(parameter_value, (list, tuple, array.array)):
                if all(isinstance(v, bytes) for v in parameter_value):
                    return Parameter.Type.BYTE_ARRAY
                if all(isinstance(v, bool) for v in parameter_value):
                    return Parameter.Type.BOOL_ARRAY
                if all(isinstance(v, int) for v in parameter_value):
                    return Parameter.Type.INTEGER_ARRAY
                if all(isinstance(v, float) for v in parameter_value):
                    return Parameter.Type.DOUBLE_ARRAY
                if all(isinstance(v, str) for v in parameter_value):
                    return Parameter.Type.STRING_ARRAY
                raise TypeError(
                    f"The given value is not a list of one of the allowed types '{parameter_value}'."
                )
            raise TypeError(f"The given value is not one of the allowed types '{parameter_value}'.")

        def check(self, parameter_value: Any) -> bool:
            checks = {
                Parameter.Type.NOT_SET: lambda v: v is None,
                Parameter.Type.BOOL: lambda v: isinstance(v, bool),
                Parameter.Type.INTEGER: lambda v: isinstance(v, int),
                Parameter.Type.DOUBLE: lambda v: isinstance(v, float),
                Parameter.Type.STRING: lambda v: isinstance(v, str),
                Parameter.Type.BYTE_ARRAY: lambda v: (
                    isinstance(v, (list, tuple))
                    and all(isinstance(x, bytes) and len(x) == 1 for x in v)
                ),
                Parameter.Type.BOOL_ARRAY: lambda v: (
                    isinstance(v, (list, tuple)) and all(isinstance(x, bool) for x in v)
                ),
                Parameter.Type.INTEGER_ARRAY: lambda v: (
                    isinstance(v, (list, tuple, array.array)) and all(isinstance(x, int) for x in v)
                ),
                Parameter.Type.DOUBLE_ARRAY: lambda v: (
                    isinstance(v, (list, tuple, array.array))
                    and all(isinstance(x, float) for x in v)
                ),
                Parameter.Type.STRING_ARRAY: lambda v: (
                    isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v)
                ),
            }
            return checks[self](parameter_value)

    def __init__(self, name: str, type_: Parameter.Type | None = None, value: Any = None) -> None:
        if type_ is None:
            type_ = Parameter.Type.from_parameter_value(value)
        if not isinstance(type_, Parameter.Type):
            raise TypeError(f"type must be an instance of '{Parameter.Type!r}'")
        if not type_.check(value):
            raise ValueError(f"Type '{type_}' and value '{value}' do not agree")
        self._type_ = type_
        self._name = name
        self._value = value

    @property
    def name(self) -> str:
        return self._name

    @property
    def type_(self) -> Parameter.Type:
        return self._type_

    @property
    def value(self) -> Any:
        return self._value

    def __repr__(self) -> str:
        return f"Parameter({self._name!r}, {self._type_}, {self._value!r})"


class ParameterException(Exception):
    """Base exception for parameter-related errors."""

    def __init__(self, error_msg: str, parameters: Any) -> None:
        Exception.__init__(self, f"{error_msg}: {parameters}")


class ParameterNotDeclaredException(ParameterException):
    def __init__(self, parameters: Any) -> None:
        ParameterException.__init__(self, "Invalid access to undeclared parameter(s)", parameters)


class ParameterAlreadyDeclaredException(ParameterException):
    def __init__(self, parameters: Any) -> None:
        ParameterException.__init__(self, "Parameter(s) already declared", parameters)


class InvalidParameterTypeException(ParameterException):
    """A parameter is set to a value of a type other than its declared type."""

    def __init__(self, desired_parameter: Parameter, expected_type: str) -> None:
        ParameterException.__init__(
            self,
            f"Trying to set parameter '{desired_parameter.name}' to '{desired_parameter.value}' "
            f"of type '{desired_parameter.type_.name}', expecting type '{expected_type}'",
            desired_parameter.name,
        )


class InvalidParameterValueException(ParameterException):
    def __init__(self, parameter: str, value: Any, reason: str) -> None:
        ParameterException.__init__(
            self,
            f"Invalid parameter value ({value}) for parameter. Reason: {reason}",
            parameter,
        )


class ParameterUninitializedException(ParameterException):
    def __init__(self, parameter_name: str) -> None:
        ParameterException.__init__(
            self, f"The parameter '{parameter_name}' is not initialized", parameter_name
        )

"""Strict conversion of a REST request's JSON value to an array of the signature's dtype.

The rules and messages are TF Serving's (util/json_tensor.cc): every list of one level has the
same length, values sit at the same depth, and each value has the JSON type of the dtype: a
number for floats, an integer in range for integers, ``true``/``false`` for bool, a string or
``{"b64": ...}`` for strings. ``null``, ``"1.5"``, ``1.7`` for an int, ``5`` for a bool are
INVALID_ARGUMENT, never silently converted.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

import numpy as np
from tensorflow.core.framework import types_pb2

from pipelinekit.serving.errors import InvalidInputError
from pipelinekit.serving.tensor_checks import MAX_RANK, dtype_name

__all__ = ["json_to_array"]

_MAX_DEBUG_CHARS = 256  # TF Serving cuts a value in a message to this many bytes


def json_to_array(value: Any, dtype: int, what: str) -> np.ndarray:
    """The array of DataType ``dtype`` that a JSON value stands for; ``what`` starts each message."""
    convert = _CONVERTERS.get(dtype)
    if convert is None:
        raise InvalidInputError(
            f"{what}: Conversion of JSON Value: {_debug(value)} to type: {dtype_name(dtype)} is not "
            "supported"
        )
    shape = _shape_of(value, what)
    flat: list[Any] = []
    _flatten(value, shape, 0, flat, what)
    # np.fromiter fills the array straight from the checked values: no second list of them.
    numpy_type = _NUMPY_TYPES.get(dtype, object)
    try:
        with np.errstate(over="ignore"):  # 1e300 for a float input is inf, as in TF Serving
            return np.fromiter(map(convert, flat), dtype=numpy_type, count=len(flat)).reshape(shape)
    except _WrongType as exc:
        raise InvalidInputError(
            f"{what}: JSON Value: {_debug(exc.value)} Type: {_json_type(exc.value)} is not of expected type: "
            f"{dtype_name(dtype)}"
        ) from None


def _shape_of(value: Any, what: str) -> list[int]:
    """The shape the first elements give, as TF Serving reads it (``[]`` for a scalar)."""
    shape: list[int] = []
    while isinstance(value, list):
        if len(shape) == MAX_RANK:
            raise InvalidInputError(f"{what}: the value is nested deeper than {MAX_RANK} lists")
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def _flatten(value: Any, shape: list[int], level: int, out: list[Any], what: str) -> None:
    """Append the leaves of ``value`` to ``out``, checking it is a dense tensor of ``shape``."""
    if not isinstance(value, list):
        if level != len(shape):
            raise InvalidInputError(
                f"{what}: JSON Value: {_debug(value)} found at incorrect level: {level + 1} in the JSON "
                f"DOM. Expected at level: {len(shape)}"
            )
        out.append(value)
        return
    if level >= len(shape):
        raise InvalidInputError(
            f"{what}: Encountered list at unexpected level: {level} expected < {len(shape)}"
        )
    if len(value) != shape[level]:
        raise InvalidInputError(
            f"{what}: Encountered list at unexpected size: {len(value)} at level: {level} expected size: "
            f"{shape[level]}"
        )
    if level == len(shape) - 1:
        if any(isinstance(item, list) for item in value):
            raise InvalidInputError(
                f"{what}: Encountered list at unexpected level: {level + 1} expected < {len(shape)}"
            )
        out.extend(value)
        return
    for item in value:
        _flatten(item, shape, level + 1, out, what)


class _WrongType(Exception):
    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


def _number(value: Any) -> float:
    if type(value) not in (int, float):  # bool is a subclass of int: exclude it by exact type
        raise _WrongType(value)
    try:
        return float(value)
    except OverflowError:  # an integer past float64's range
        raise _WrongType(value) from None


def _integer(low: int, high: int) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        if type(value) is not int or not low <= value <= high:
            raise _WrongType(value)
        return value

    return convert


def _boolean(value: Any) -> bool:
    if type(value) is not bool:
        raise _WrongType(value)
    return value


def _string(value: Any) -> bytes:
    if type(value) is str:
        return value.encode("utf-8")
    if isinstance(value, dict) and set(value) == {"b64"} and type(value["b64"]) is str:
        try:
            return base64.b64decode(value["b64"], validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInputError(f"Unable to base64 decode {_debug(value)}") from None
    raise _WrongType(value)


def _int_range(bits: int, signed: bool) -> Callable[[Any], int]:
    return _integer(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else _integer(0, 2**bits - 1)


_CONVERTERS: dict[int, Callable[[Any], Any]] = {
    types_pb2.DT_FLOAT: _number,
    types_pb2.DT_DOUBLE: _number,
    types_pb2.DT_HALF: _number,
    types_pb2.DT_INT8: _int_range(8, True),
    types_pb2.DT_UINT8: _int_range(8, False),
    types_pb2.DT_INT16: _int_range(16, True),
    types_pb2.DT_UINT16: _int_range(16, False),
    types_pb2.DT_INT32: _int_range(32, True),
    types_pb2.DT_UINT32: _int_range(32, False),
    types_pb2.DT_INT64: _int_range(64, True),
    types_pb2.DT_UINT64: _int_range(64, False),
    types_pb2.DT_BOOL: _boolean,
    types_pb2.DT_STRING: _string,
}

_NUMPY_TYPES: dict[int, Any] = {
    types_pb2.DT_FLOAT: np.float32,
    types_pb2.DT_DOUBLE: np.float64,
    types_pb2.DT_HALF: np.float16,
    types_pb2.DT_INT8: np.int8,
    types_pb2.DT_UINT8: np.uint8,
    types_pb2.DT_INT16: np.int16,
    types_pb2.DT_UINT16: np.uint16,
    types_pb2.DT_INT32: np.int32,
    types_pb2.DT_UINT32: np.uint32,
    types_pb2.DT_INT64: np.int64,
    types_pb2.DT_UINT64: np.uint64,
    types_pb2.DT_BOOL: np.bool_,
}


def _json_type(value: Any) -> str:
    """rapidjson's name of a value's JSON type, as TF Serving's messages give it."""
    if value is None:
        return "Null"
    if value is True:
        return "True"
    if value is False:
        return "False"
    if isinstance(value, dict):
        return "Object"
    if isinstance(value, list):
        return "Array"
    return "String" if isinstance(value, str) else "Number"


def _debug(value: Any) -> str:
    """The value as compact JSON, cut to 256 characters."""
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        text = repr(value)
    return text[:_MAX_DEBUG_CHARS]

"""One canonical, type-preserving text form of a value, for cache keys.

Unlike plain JSON it keeps ``1`` apart from ``"1"`` and ``1.0``, a tuple apart from a list, and
sorts dict entries of mixed key types without failing. Arrays are hashed by dtype, shape and
bytes; other objects by their pickle, and an object that cannot be pickled is refused.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
import pickle
import sys
from typing import Any

__all__ = ["canonical_json", "Unfingerprintable"]


class Unfingerprintable(Exception):
    """A value whose content cannot be put into a cache key."""


def canonical_json(value: Any) -> str:
    """A compact JSON text of ``value`` tagged with types, identical for equal values."""
    return json.dumps(_encode(value), separators=(",", ":"), ensure_ascii=False)


def _encode(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, enum.Enum):
        return ["enum", f"{type(value).__module__}.{type(value).__qualname__}", _encode(value.value)]
    if isinstance(value, int):
        return ["int", str(value)]
    if isinstance(value, float):
        return ["float", value.hex() if math.isfinite(value) else repr(value)]
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, (bytes, bytearray)):
        return ["bytes", bytes(value).hex()]
    if isinstance(value, list):
        return ["list", [_encode(v) for v in value]]
    if isinstance(value, tuple):
        return ["tuple", [_encode(v) for v in value]]
    if isinstance(value, (set, frozenset)):
        return ["set", sorted((_encode(v) for v in value), key=_sort_key)]
    if isinstance(value, dict):
        return ["dict", sorted(([_encode(k), _encode(v)] for k, v in value.items()), key=lambda kv: _sort_key(kv[0]))]
    if isinstance(value, type) or callable(value) and hasattr(value, "__qualname__"):
        return ["ref", f"{getattr(value, '__module__', '')}:{value.__qualname__}"]
    return _encode_object(value)


def _encode_object(value: Any) -> Any:
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.ndarray):
        data = numpy.ascontiguousarray(value)
        return ["ndarray", data.dtype.str, list(data.shape), hashlib.sha256(data.tobytes()).hexdigest()]
    if hasattr(value, "SerializeToString") and hasattr(value, "DESCRIPTOR"):  # a protocol buffer message
        return ["proto", value.DESCRIPTOR.full_name, hashlib.sha256(value.SerializeToString(deterministic=True)).hexdigest()]
    try:
        data = pickle.dumps(value, protocol=4)
    except Exception as error:  # noqa: BLE001 - any pickling failure means the same thing here
        raise Unfingerprintable(f"{type(value).__qualname__} cannot be pickled: {error}") from error
    return ["pickle", f"{type(value).__module__}.{type(value).__qualname__}", hashlib.sha256(data).hexdigest()]


def _sort_key(encoded: Any) -> str:
    return json.dumps(encoded, separators=(",", ":"), ensure_ascii=False)

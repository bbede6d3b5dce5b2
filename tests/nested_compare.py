"""Comparing nested plain values (dicts, lists, numbers: a proto as ``MessageToDict`` gives it)
with floats equal within a tolerance, and saying where they first differ."""

from __future__ import annotations

import math
from typing import Any


def first_difference(a: Any, b: Any, tolerance: tuple[float, float], at: str = "") -> str | None:
    """Where ``a`` and ``b`` first differ beyond ``tolerance`` (relative, absolute), with both
    values, or None when they are equal within it."""
    unequal = f"{at or '(top)'}: {a!r} != {b!r}"
    if isinstance(a, float) or isinstance(b, float):
        rel, absolute = tolerance
        numbers = isinstance(a, int | float) and isinstance(b, int | float)
        return None if numbers and math.isclose(a, b, rel_tol=rel, abs_tol=absolute) else unequal
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return f"{at or '(top)'}: keys {sorted(a.keys() ^ b.keys())} on one side only"
        found = (first_difference(a[k], b[k], tolerance, f"{at}.{k}") for k in a)
        return next((d for d in found if d is not None), None)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return f"{at or '(top)'}: {len(a)} items != {len(b)}"
        found = (first_difference(x, y, tolerance, f"{at}[{i}]") for i, (x, y) in enumerate(zip(a, b)))
        return next((d for d in found if d is not None), None)
    return None if a == b else unequal

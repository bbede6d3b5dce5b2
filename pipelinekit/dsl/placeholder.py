"""Placeholders: values that exist only at run time, such as an upstream artifact's property.

A placeholder may stand where a parameter value or a ``Cond`` predicate is expected; the
launcher resolves it against the node's resolved input artifacts just before the node runs.
"""

from __future__ import annotations

__all__ = ["Placeholder"]


class Placeholder:
    """Base of every run-time placeholder; concrete kinds are built from ``channel.future()``."""

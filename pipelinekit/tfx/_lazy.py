"""Module ``__getattr__`` helpers for the facade: names resolve on first use, so importing
``pipelinekit.tfx`` stays light and names from modules that land later still work."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(module_name: str, homes: dict[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A ``__getattr__`` resolving each name in ``homes`` from the module path it maps to
    (``"pkg.mod"`` or ``"pkg.mod:attribute"``), caching it in ``namespace``."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}; it has: {', '.join(sorted(homes))}")
        path, _, attribute = home.partition(":")
        value = getattr(importlib.import_module(path), attribute or name)
        namespace[name] = value
        return value

    return __getattr__

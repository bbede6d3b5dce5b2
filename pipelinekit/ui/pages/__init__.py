"""The UI's pages, one module each.

A page module defines ``PAGE = Page(title, path, routes)``: ``title`` and ``path`` make its
navigation entry (an empty title keeps it out of the navigation, as for a run's own page), and
``routes(context)`` returns its starlette routes, rendering templates of ``ui/templates`` that extend
``base.html``. To add a page, write ``pages/<name>.py`` and its template, and add ``<name>`` to
``PAGES``; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Page", "PAGES"]

PAGES: tuple[str, ...] = ("runs", "run", "models", "monitoring", "serving")
"""Page modules, in navigation order."""


@dataclass(frozen=True)
class Page:
    title: str
    path: str
    routes: Callable[[Any], list[Any]]

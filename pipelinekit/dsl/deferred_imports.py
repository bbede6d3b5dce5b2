"""Defer optional client libraries that Beam imports eagerly but a pipeline rarely uses.

``import apache_beam`` imports Google's BigQuery client (``apache_beam.io.gcp.bigquery_tools``
binds ``from google.cloud import bigquery`` at module level), and through it tqdm's notebook
widgets, ipywidgets and IPython: 0.5-0.8 s of CPU (of Beam's 3.7 s import, 2 cores) in every
run that starts Beam, whether or not it reads BigQuery. Deferred, such a module is registered by a placeholder that
carries the real module's spec and file; the first name looked up on it imports the real module
through Python's own import machinery (its locks, in whatever thread asks) and answers from it,
and ``sys.modules`` holds the real module from then on. A pipeline that uses the library gets the
very same objects, a little later; one that does not never pays for it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
import weakref
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import Any

__all__ = ["OPTIONAL_CLIENTS", "defer_imports", "defer_optional_clients"]

OPTIONAL_CLIENTS = ("google.cloud.bigquery",)
"""Modules that Beam (2.61) imports at ``import apache_beam`` only to bind their name."""

_pending: set[str] = set()
_lock = threading.Lock()
_armed: weakref.WeakSet[ModuleType] = weakref.WeakSet()


def defer_optional_clients() -> None:
    """Defer :data:`OPTIONAL_CLIENTS` in this process (see the module docstring)."""
    defer_imports(OPTIONAL_CLIENTS)


def defer_imports(names: Iterable[str]) -> None:
    """Make the first ``import`` of each of ``names`` in this process register a placeholder that
    imports the real module when a name is first looked up on it. A module already imported, and
    one that cannot be found, are left alone (the import then behaves as without deferral)."""
    with _lock:
        _pending.update(name for name in names if name not in sys.modules)
        if _DeferringFinder not in sys.meta_path:
            sys.meta_path.insert(0, _DeferringFinder)


class _Placeholder(ModuleType):
    """Stands for a deferred module until a name is looked up on it; then forwards to the real one."""

    def __getattr__(self, name: str) -> Any:
        if self not in _armed:  # still being created: the import machinery probes attributes
            raise AttributeError(name)
        return getattr(_real_module(self), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if self in _armed:
            setattr(_real_module(self), name, value)
        else:
            super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return dir(_real_module(self))


def _real_module(placeholder: _Placeholder) -> ModuleType:
    name = placeholder.__spec__.name if placeholder.__spec__ else ModuleType.__getattribute__(placeholder, "__name__")
    with _lock:
        _pending.discard(name)
        if sys.modules.get(name) is placeholder:
            del sys.modules[name]
    return importlib.import_module(name)


class _PlaceholderLoader(importlib.abc.Loader):
    """Creates the placeholder for a module found by Python's path finder (``spec``)."""

    def __init__(self, spec: importlib.machinery.ModuleSpec) -> None:
        self.spec = spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        placeholder = _Placeholder(spec.name)
        placeholder.__loader__ = self.spec.loader
        placeholder.__package__ = self.spec.parent
        placeholder.__file__ = self.spec.origin
        placeholder.__cached__ = self.spec.cached
        return placeholder

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self.spec  # the real module's spec, as a plain import leaves it
        _armed.add(module)


class _DeferringFinder:
    """First on ``sys.meta_path``: answers only for the pending names, with a placeholder."""

    @staticmethod
    def find_spec(
        name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name not in _pending:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return None
        return importlib.machinery.ModuleSpec(name, _PlaceholderLoader(spec), origin=spec.origin)

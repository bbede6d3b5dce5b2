"""Load a class component's executor so that the code that runs is the code its cache key describes.

The key hashes the executor module and the modules it imports from its own package, read from
disk. A long-lived process (a notebook, a test session) may hold older copies of those modules;
they are reloaded, dependencies first, before the executor runs. A module imported before
pipelinekit first saw it is trusted only if its file has not changed since the process started.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pipelinekit.errors import ComponentDefinitionError, RunError
from pipelinekit.orchestration.fingerprint import digest, imported_names, module_sources
from pipelinekit.orchestration.ownership import process_start_time

if TYPE_CHECKING:
    from pipelinekit.dsl.component import ComponentDefinition, Executor
    from pipelinekit.dsl.context import ExecutionContext

__all__ = ["load_executor"]

_LOADED: dict[str, str] = {}
"""Module name -> digest of the source it was last (re)loaded from, as far as pipelinekit knows."""
_LOCK = threading.Lock()


_PROCESS_START = process_start_time()


def load_executor(component_name: str, executor: str, expected: dict[str, str]) -> Callable[..., Any]:
    """Import ``"package.module:function"`` with every module of its closure matching ``expected``
    (per-module source digests taken for the cache key)."""
    module_name, _, attribute = executor.partition(":")
    with _LOCK:
        sources = module_sources(module_name)
        current = {name: digest(source) for name, (_, source) in sorted(sources.items())}
        if expected and current != expected:
            edited = sorted(name for name in set(current) | set(expected) if current.get(name) != expected.get(name))
            raise RunError(
                f"component {component_name!r}: executor code changed on disk while the node was starting "
                f"({', '.join(edited)}); nothing ran, run the pipeline again"
            )
        changed = {name for name in sources if name in sys.modules and not _is_current(name, sources[name][0], current[name])}
        stale = _with_importers(changed, sources)
        try:
            for name in _dependencies_first(stale, sources):
                importlib.reload(sys.modules[name])
            module = importlib.import_module(module_name)
            function = getattr(module, attribute)
        except (ImportError, AttributeError, SyntaxError) as error:
            raise ComponentDefinitionError(f"component {component_name!r}: cannot load executor {executor!r}: {error}") from error
        for name in sources:
            if name in sys.modules:
                _LOADED[name] = current[name]
    return function


def _is_current(name: str, path: str, source_digest: str) -> bool:
    if name in _LOADED:
        return _LOADED[name] == source_digest
    try:
        return os.stat(path).st_mtime < _PROCESS_START
    except OSError:
        return False


def _with_importers(changed: set[str], sources: dict[str, tuple[str, bytes]]) -> list[str]:
    """``changed`` plus every loaded module of ``sources`` that imports one of them, directly or
    not: ``from helpers import FACTOR`` keeps the old value until the importer is reloaded too."""
    imports = {name: set(imported_names(source, name, path)) for name, (path, source) in sources.items()}
    stale = set(changed)
    grew = True
    while grew:
        importers = {n for n, names in imports.items() if n in sys.modules and n not in stale and names & stale}
        stale |= importers
        grew = bool(importers)
    return sorted(stale)


def _dependencies_first(names: list[str], sources: dict[str, tuple[str, bytes]]) -> list[str]:
    """``names`` ordered so that a module comes after the modules of ``sources`` it imports."""
    wanted = set(names)
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in ordered or name in visiting:
            return
        visiting.add(name)
        path, source = sources[name]
        for imported in imported_names(source, name, path):
            if imported in sources:
                visit(imported)
        if name in wanted:
            ordered.append(name)

    for name in sorted(names):
        visit(name)
    return ordered


def call_executor(definition: ComponentDefinition, executor: Executor, arguments: dict[str, Any], context: ExecutionContext) -> None:
    """Call a node's executor with its arguments: a function component through its typed
    signature (``function_io``), which also makes its Beam pipeline from ``context``."""
    if definition.function_io:
        definition.function_io.call(executor, arguments, context.make_beam_pipeline)
    else:
        executor(**arguments)

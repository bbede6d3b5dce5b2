"""Digests of code, files and folders: the raw material of cache keys.

Code is hashed by source so a one-line change is seen; a component function's digest also
covers the same-module helpers and constants it references, and nothing else in its file, so
editing one component re-runs only that component.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.metadata
import importlib.util
import inspect
import marshal
import os
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = [
    "digest",
    "path_fingerprint",
    "path_manifest",
    "code_fingerprint",
    "distribution_versions",
    "libraries_used_by",
]

_CONSTANT_TYPES = (int, float, str, bool, bytes, tuple, frozenset, type(None))


def digest(*parts: str | bytes) -> str:
    """A hex sha256 of the parts, each length-prefixed so boundaries matter."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def _files_under(path: str) -> Iterable[tuple[str, str]]:
    """``(relative path, absolute path)`` for every file under ``path``, in sorted order."""
    if os.path.isfile(path):
        yield os.path.basename(path), path
        return
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            yield os.path.relpath(full, path), full


CONTENT_HASH_LIMIT_BYTES = 256 * 1024 * 1024
"""Above this total size, data is fingerprinted by file names, sizes and modification times
instead of bytes: hashing gigabytes on every run would cost more than the rerun it could save."""


def path_fingerprint(path: str) -> str:
    """A digest of the names and bytes of every file under ``path`` (a file or a folder); for data
    over ``CONTENT_HASH_LIMIT_BYTES``, of names, sizes and modification times (``stat:`` prefix)."""
    files = list(_files_under(path))
    stats = [(relative, os.stat(full)) for relative, full in files]
    if sum(stat.st_size for _, stat in stats) > CONTENT_HASH_LIMIT_BYTES:
        return "stat:" + digest(*(f"{rel}:{stat.st_size}:{stat.st_mtime_ns}" for rel, stat in stats))
    h = hashlib.sha256()
    for relative, full in files:
        h.update(relative.encode() + b"\0")
        with open(full, "rb") as handle:
            for block in iter(functools.partial(handle.read, 1 << 20), b""):
                h.update(block)
        h.update(b"\0")
    return h.hexdigest()


def path_manifest(path: str) -> str:
    """A cheap digest of names and sizes under ``path``: tells whether files were removed or cut."""
    if not os.path.exists(path):
        return "missing"
    entries = [f"{rel}:{os.path.getsize(full)}" for rel, full in _files_under(path)]
    return digest(*entries)


def code_fingerprint(implementation: Callable[..., Any] | str) -> str:
    """Digest of an executor: a function with its same-module helpers, or a whole module given as
    ``"package.module:function"`` (read from disk, not imported)."""
    if isinstance(implementation, str):
        return digest(implementation, *_module_closure_parts(implementation.partition(":")[0]))
    return digest(*_function_parts(implementation))


def _module_file(name: str) -> str | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    origin = spec.origin if spec else None
    return origin if origin and origin.endswith(".py") else None


def _module_closure_parts(module_name: str) -> list[str | bytes]:
    """The source of an executor module and of the modules it imports from its own folder tree
    (its package, or its directory for a top-level module), read from disk, never imported."""
    first = _module_file(module_name)
    if first is None:
        return ["unresolved"]
    top = module_name.split(".")[0]
    root = os.path.dirname(first) if "." not in module_name else os.path.dirname(_module_file(top) or first)
    parts: list[str | bytes] = []
    seen: set[str] = set()
    pending = [module_name]
    inside = os.path.abspath(root) + os.sep
    while pending:
        name = pending.pop()
        if name in seen or not _is_under(name.split(".")[0], inside):  # checked first: find_spec("a.b") imports "a"
            continue
        path = _module_file(name)
        if path is None or not os.path.abspath(path).startswith(inside):
            continue
        seen.add(name)
        with open(path, "rb") as handle:
            source = handle.read()
        parts += [name, source]
        pending.extend(_imported_names(source, name, path))
    return parts


@functools.lru_cache(maxsize=1024)
def _is_under(top_level: str, folder: str) -> bool:
    path = _module_file(top_level)
    return path is not None and os.path.abspath(path).startswith(folder)


def _imported_names(source: bytes, module_name: str, path: str) -> list[str]:
    """Absolute names of the modules a source file imports (relative imports resolved)."""
    package = module_name if path.endswith("__init__.py") else module_name.rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}".strip(".")
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return names


def _function_parts(root: Callable[..., Any]) -> list[str]:
    parts: list[str] = []
    seen: set[int] = set()
    module = getattr(root, "__module__", None)
    pending: list[Any] = [root]
    while pending:
        obj = pending.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        parts.append(_source_of(obj))
        namespace = getattr(obj, "__globals__", None) or vars(sys.modules.get(module or "", types.ModuleType("_")))
        for name in sorted(_referenced_names(obj)):
            target = namespace.get(name)
            if (inspect.isfunction(target) or inspect.isclass(target)) and getattr(target, "__module__", None) == module:
                pending.append(target)
            elif isinstance(target, _CONSTANT_TYPES):
                parts.append(f"{name}={target!r}")
    return parts


def _source_of(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        code = getattr(obj, "__code__", None)
        return marshal.dumps(code).hex() if code is not None else repr(obj)


def _referenced_names(obj: Any) -> set[str]:
    """Global names used by a function, or by any method of a class."""
    if inspect.isclass(obj):
        codes = [m.__code__ for m in vars(obj).values() if inspect.isfunction(m)]
        names = {base.__name__ for base in obj.__bases__}
    else:
        codes = [obj.__code__] if hasattr(obj, "__code__") else []
        names = set()
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return names


@functools.lru_cache(maxsize=1)
def _module_to_distributions() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distribution_versions(names: Iterable[str]) -> dict[str, str]:
    """Installed versions of the given distributions or top-level module names (unknown ones skipped).

    A name is first tried as a distribution name (cheap); only modules whose distribution is
    named differently (``sklearn`` -> ``scikit-learn``) pay for the full scan of installed packages.
    """
    versions: dict[str, str] = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
            continue
        except importlib.metadata.PackageNotFoundError:
            pass
        for distribution in _module_to_distributions().get(name, []):
            try:
                versions[distribution] = importlib.metadata.version(distribution)
            except importlib.metadata.PackageNotFoundError:
                continue
    return dict(sorted(versions.items()))


def libraries_used_by(fn: Callable[..., Any]) -> set[str]:
    """Top-level third-party packages a function uses: imported in its module (``np`` for numpy)
    or inside its body (``import tensorflow``)."""
    names = {
        value.__name__.split(".")[0] for value in getattr(fn, "__globals__", {}).values() if isinstance(value, types.ModuleType)
    }
    candidates = {name.split(".")[0] for name in _referenced_names(fn)} - names - set(sys.stdlib_module_names)
    names |= {name for name in candidates if _is_installed_module(name)}
    return names - set(sys.stdlib_module_names) - {"builtins", "pipelinekit"}


@functools.lru_cache(maxsize=4096)
def _is_installed_module(name: str) -> bool:
    """Whether a top-level module of this name can be imported (found without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False

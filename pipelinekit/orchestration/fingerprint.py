"""Digests of code, files and folders: the raw material of cache keys.

Executor modules of class components are hashed by source, read from disk without importing
them (the launcher then makes sure the loaded modules match), with every user module they import,
whatever its package; the libraries they import are named so that their versions join the key.
Function components are hashed from their loaded code by :mod:`pipelinekit.orchestration.code_digest`.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.metadata
import importlib.util
import os
import sys
import threading
from collections.abc import Iterable, Mapping

from pipelinekit.dsl.user_code import top_level_kind

__all__ = [
    "digest",
    "path_fingerprint",
    "path_manifest",
    "code_fingerprint",
    "module_sources",
    "imported_libraries",
    "module_file_sources",
    "source_file",
    "imported_names",
    "distribution_versions",
]


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
    """A cheap digest of names, sizes and modification times under ``path``: tells whether files
    were removed, cut or edited in place since it was taken."""
    if not os.path.exists(path):
        return "missing"
    entries = []
    for relative, full in _files_under(path):
        stat = os.stat(full)
        entries.append(f"{relative}:{stat.st_size}:{stat.st_mtime_ns}")
    return digest(*entries)


def code_fingerprint(executor: str) -> dict[str, str]:
    """Per-module digests of an executor given as ``"package.module:function"``: the module and
    the user modules it imports, directly or not, read from disk, never imported."""
    return source_digests(executor, module_sources(executor.partition(":")[0]))


def source_digests(executor: str, sources: Mapping[str, tuple[str, bytes]]) -> dict[str, str]:
    """Per-module digests of ``sources`` (from :func:`module_sources`) of ``executor``."""
    if not sources:
        return {"unresolved": digest(executor)}
    return {name: digest(source) for name, (_, source) in sorted(sources.items())}


def source_file(module_name: str) -> str | None:
    """The ``.py`` file a module would be loaded from, found without importing anything.

    ``find_spec`` on a dotted name imports the parent packages: slow for a library, and racy when
    another thread is importing the same package (it can answer None for a module half
    initialised). So the search starts from the deepest enclosing package already imported (its
    ``__path__`` also covers a package installed from another folder, as ``pipelinekit.components``
    is), else from the top-level name's spec, and the rest is found on disk.
    """
    parts = module_name.split(".")
    folders: list[str] | None = None
    for depth in range(len(parts) - 1, 0, -1):
        package = sys.modules.get(".".join(parts[:depth]))
        if package is not None and getattr(package, "__path__", None) is not None:
            folders, rest = list(package.__path__), parts[depth:]
            break
    if folders is None:
        try:
            spec = importlib.util.find_spec(parts[0])
        except (ImportError, ValueError):
            return None
        if spec is None:
            return None
        if len(parts) == 1:
            return spec.origin if spec.origin and spec.origin.endswith(".py") and os.path.isfile(spec.origin) else None
        folders, rest = list(spec.submodule_search_locations or ()), parts[1:]
    for folder in folders:
        base = os.path.join(folder, *rest)
        for candidate in (base + ".py", os.path.join(base, "__init__.py")):
            if os.path.isfile(candidate):
                return candidate
    if parts[0] == "pipelinekit" and len(parts) > 1:  # a subpackage installed from another folder, not imported yet
        if len(parts) > 2 and not (source_file(".".join(parts[:-1])) or "").endswith("__init__.py"):
            return None  # a name inside a module (``from m import f``), not a submodule: find_spec would import ``m``
        try:
            spec = importlib.util.find_spec(module_name)
        except (ImportError, ValueError):
            return None
        return spec.origin if spec and spec.origin and spec.origin.endswith(".py") else None
    return None


def module_sources(module_name: str) -> dict[str, tuple[str, bytes]]:
    """``{name: (path, source)}`` for a module and the modules it imports, directly or not, that
    are user code (see :mod:`pipelinekit.dsl.user_code`) or part of its own package, read from
    disk. Imports anywhere in a file count, also those inside functions."""
    if source_file(module_name) is None:
        return {}
    own_package = _own_package(module_name)
    found: dict[str, tuple[str, bytes]] = {}
    pending = [module_name]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        own = name == own_package or name.startswith(own_package + ".")  # checked first: a library's files are never looked up
        if not own and top_level_kind(name.split(".")[0]) != "user":
            continue
        path = source_file(name)
        if path is None:
            continue
        with open(path, "rb") as handle:
            source = handle.read()
        found[name] = (path, source)
        pending.extend(imported_names(source, name, path))
    return found


def _own_package(module_name: str) -> str:
    """The package whose modules count as the executor's own code: its top-level package, or for
    pipelinekit's own executors their subpackage (``pipelinekit.components``, ``pipelinekit.monitor``).
    pipelinekit's core is versioned with the library, never followed: reloading ``pipelinekit.errors``
    or ``pipelinekit.types`` in a long-lived process would give two copies of its classes."""
    parts = module_name.split(".")
    return ".".join(parts[:2]) if parts[0] == "pipelinekit" and len(parts) > 2 else parts[0]


def imported_libraries(sources: Mapping[str, tuple[str, bytes]]) -> set[str]:
    """Top-level names of the installed libraries that ``sources`` import (not the standard
    library, not pipelinekit, not user code), found without importing them."""
    tops = {imported.split(".")[0] for name, (path, source) in sources.items() for imported in imported_names(source, name, path)}
    return {top for top in tops if top and top not in sources and top_level_kind(top) == "library"}


def module_file_sources(path: str) -> dict[str, bytes]:
    """A user module file and the modules beside it that it imports, directly or not (``import
    penguin_utils_base as base``), by file path: what the module file's code depends on, and no
    other file of its folder (editing the pipeline file next to it must not re-key Transform)."""
    folder = os.path.dirname(os.path.abspath(path))
    found: dict[str, bytes] = {}
    pending = [(os.path.splitext(os.path.basename(path))[0], os.path.abspath(path))]
    while pending:
        name, file = pending.pop()
        if file in found:
            continue
        with open(file, "rb") as handle:
            found[file] = handle.read()
        for imported in imported_names(found[file], name, file):
            local = _local_module(folder, imported)
            if local is not None:
                pending.append((imported, local))
    return found


def _local_module(folder: str, module_name: str) -> str | None:
    base = os.path.join(folder, *module_name.split("."))
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(candidate):
            return candidate
    return None


_PARSE_LOCK = threading.Lock()
"""CPython 3.11 before 3.11.8 can fail ``ast.parse`` called from two threads at once
("AST constructor recursion depth mismatch"); Beam runs nodes in threads."""


def imported_names(source: bytes, module_name: str, path: str) -> list[str]:
    """Absolute names of the modules a source file imports (relative imports resolved)."""
    package = module_name if path.endswith("__init__.py") else module_name.rpartition(".")[0]
    names: list[str] = []
    for node in _import_statements(source):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}".strip(".")
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return names


@functools.lru_cache(maxsize=2048)
def _import_statements(source: bytes) -> tuple[ast.Import | ast.ImportFrom, ...]:
    """The import statements of a source file, parsed once per distinct source."""
    for attempt in range(5):
        try:
            with _PARSE_LOCK:
                tree = ast.parse(source)
            break
        except SyntaxError:
            return ()  # the import itself will report it, with file and line
        except SystemError:  # another thread (TensorFlow's autograph) was parsing at the same time
            if attempt == 4:
                raise
    return tuple(node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom)))


@functools.lru_cache(maxsize=1)
def _module_to_distributions() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


_KNOWN_DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "yaml": "PyYAML",
    "PIL": "Pillow",
    "google": "protobuf",
    "attr": "attrs",
    "dateutil": "python-dateutil",
    "tensorflow_serving": "tensorflow-serving-api",
    "tfx_bsl": "tfx-bsl",
    "keras_tuner": "keras-tuner",
    "grpc": "grpcio",
}
"""Top-level modules whose distribution has another name, so the full scan is rarely needed."""


def distribution_versions(names: Iterable[str]) -> dict[str, str]:
    """Installed versions of the given distributions or top-level module names (unknown ones skipped).

    A name is first tried as a distribution name (cheap), then through a table of well-known
    renames; only other modules pay for the full scan of installed packages (about 0.3 s).
    """
    versions: dict[str, str] = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(_KNOWN_DISTRIBUTIONS.get(name, name))
            continue
        except importlib.metadata.PackageNotFoundError:
            pass
        for distribution in _module_to_distributions().get(name, []):
            try:
                versions[distribution] = importlib.metadata.version(distribution)
            except importlib.metadata.PackageNotFoundError:
                continue
    return dict(sorted(versions.items()))

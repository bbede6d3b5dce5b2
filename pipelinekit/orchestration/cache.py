"""Cache keys: what a node's result depends on, hashed from a canonical, sorted serialisation.

The key covers the component's code (with the user code it reaches), its spec, the content of
external files (user module files, imported data), its parameters, its inputs (by content
fingerprint) and the versions of the libraries its code uses or declares.
The parts are kept beside the key so a miss can say what changed.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass
from typing import Any

from pipelinekit.dsl.node import Node
from pipelinekit.orchestration.canonical import canonical_json
from pipelinekit.orchestration.code_digest import function_digest
from pipelinekit.orchestration.fingerprint import (
    digest,
    distribution_versions,
    imported_libraries,
    module_file_sources,
    module_sources,
    path_fingerprint,
    source_digests,
)
from pipelinekit.types.annotations import ExternalPath, ModuleFile
from pipelinekit.types.artifact import Artifact
from pipelinekit.version import __version__

__all__ = ["CacheKey", "compute_cache_key", "artifact_fingerprint", "describe_change"]


@dataclass(frozen=True)
class CacheKey:
    """The hex ``digest`` and the named ``parts`` it was computed from."""

    digest: str
    parts: dict[str, Any]


def artifact_fingerprint(artifact: Artifact) -> str:
    """The content fingerprint recorded at publish time, or computed now for foreign artifacts."""
    recorded = artifact.custom_properties.get("fingerprint")
    if recorded:
        return str(recorded)
    return path_fingerprint(artifact.uri) if os.path.exists(artifact.uri) else f"missing:{artifact.uri}"


def compute_cache_key(node: Node, inputs: dict[str, Artifact | None], parameters: dict[str, Any] | None = None) -> CacheKey:
    """The cache key of running ``node`` on ``inputs`` with its code and ``parameters`` (by default
    its own, as the executor will receive them)."""
    definition = node.definition
    parameters = effective_parameters(node) if parameters is None else parameters
    libraries = set(definition.libraries)
    if callable(definition.executor):
        code, used = function_digest(definition.executor)
        libraries |= used
        code_modules: dict[str, str] = {}
    else:
        sources = module_sources(definition.executor.partition(":")[0])
        code_modules = source_digests(definition.executor, sources)
        libraries |= imported_libraries(sources)
        code = digest(definition.executor, *(f"{k}={v}" for k, v in code_modules.items()))
    parts: dict[str, Any] = {
        "component": definition.name,
        "code": code,
        "code_modules": code_modules,
        "spec": digest(_canonical(definition.spec.describe())),
        "parameters": {name: digest(canonical_json(value)) for name, value in sorted(parameters.items())},
        "external_files": {
            name: _external_fingerprint(str(parameters[name]), issubclass(spec.type, ModuleFile))
            for name, spec in sorted(definition.spec.parameters.items())
            if isinstance(spec.type, type) and issubclass(spec.type, ExternalPath) and parameters.get(name)
        },
        "inputs": {
            name: artifact_fingerprint(a) if a else "none"
            for name, a in sorted(inputs.items())
            if definition.spec.inputs[name].in_cache_key
        },
        "libraries": _library_versions(libraries),
    }
    return CacheKey(digest(_canonical(parts)), parts)


def effective_parameters(node: Node) -> dict[str, Any]:
    """The node's parameter values as the executor gets them: an int given to a float
    parameter becomes a float, so ``2`` and ``2.0`` are one value with one key."""
    specs = node.definition.spec.parameters
    return {
        name: float(value) if specs[name].type is float and isinstance(value, int) and not isinstance(value, bool) else value
        for name, value in node.parameters.items()
    }


_RECORDED_PARAMETER_CHARS = 4000


def recorded_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameter values an execution records in ML Metadata (what ``models show`` and ``runs
    compare`` print): plain values only, long texts cut, containers as their JSON (so a dict with
    keys that are not strings is recorded with JSON's string keys), placeholders and objects left out."""
    recorded: dict[str, Any] = {}
    for name, value in sorted(parameters.items()):
        if isinstance(value, str):
            recorded[name] = value[:_RECORDED_PARAMETER_CHARS]
        elif isinstance(value, (int, float, bool)):
            recorded[name] = value
        elif isinstance(value, (dict, list)) and (as_json := _as_json(value)) is not None:
            recorded[name] = as_json
    return recorded


def _as_json(value: Any) -> Any:
    """``value`` as JSON gives it back (string keys, no NaN), or None when it is not JSON or too long."""
    try:
        text = json.dumps(value, allow_nan=False, sort_keys=False)
    except (TypeError, ValueError):
        return None
    return json.loads(text) if len(text) <= _RECORDED_PARAMETER_CHARS else None


def _external_fingerprint(path: str, is_module_file: bool) -> str:
    """Content digest of an external file or folder; for a module file, of it and of the modules
    beside it that it imports (``import penguin_utils_base``), found by reading its imports."""
    if not os.path.exists(path):
        return "missing"
    if not is_module_file or not os.path.isfile(path):
        return path_fingerprint(path)
    folder = os.path.dirname(os.path.abspath(path))
    sources = module_file_sources(path)
    return digest(*(f"{os.path.relpath(file, folder)}:{digest(source)}" for file, source in sorted(sources.items())))


def _library_versions(names: set[str]) -> dict[str, str]:
    versions = distribution_versions(sorted(names))
    versions["pipelinekit"] = __version__
    versions["python"] = platform.python_version()
    return versions


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)


def describe_change(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Say in words which parts of a cache key differ, e.g. ``parameter 'n' changed``."""
    changes = []
    for part in ("component", "code", "spec"):
        if old.get(part) != new.get(part):
            changes.append(f"{part} changed")
    before_modules, after_modules = old.get("code_modules") or {}, new.get("code_modules") or {}
    changed_modules = sorted(m for m in set(before_modules) | set(after_modules) if before_modules.get(m) != after_modules.get(m))
    if changed_modules and before_modules:
        changes[changes.index("code changed")] = f"code changed ({', '.join(changed_modules)})"
    for part, label in (
        ("parameters", "parameter"),
        ("external_files", "content of"),
        ("inputs", "input"),
        ("libraries", "library"),
    ):
        before, after = old.get(part, {}), new.get(part, {})
        for name in sorted(set(before) | set(after)):
            if before.get(name) != after.get(name):
                changes.append(
                    f"{label} {name!r} changed" if part != "libraries" else f"{name} {before.get(name)} -> {after.get(name)}"
                )
    return ", ".join(changes) or "no difference in the key parts"

"""Cache keys: what a node's result depends on, hashed from a canonical, sorted serialisation.

The key covers the component's code, its spec, the content of external files (user module
files, imported data), its parameters, its inputs (by content fingerprint) and the versions of the libraries it uses.
The parts are kept beside the key so a miss can say what changed.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass
from typing import Any

from pipelinekit.dsl.node import Node
from pipelinekit.orchestration.fingerprint import (
    code_fingerprint,
    digest,
    distribution_versions,
    libraries_used_by,
    path_fingerprint,
)
from pipelinekit.types.annotations import ExternalPath
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


def compute_cache_key(node: Node, inputs: dict[str, Artifact | None]) -> CacheKey:
    """The cache key of running ``node`` on ``inputs`` with its current parameters and code."""
    definition = node.definition
    parameters = node.parameters
    parts: dict[str, Any] = {
        "component": definition.name,
        "code": code_fingerprint(definition.executor),
        "spec": digest(_canonical(definition.spec.describe())),
        "parameters": {name: digest(_canonical(value)) for name, value in sorted(parameters.items())},
        "external_files": {
            name: path_fingerprint(str(parameters[name])) if os.path.exists(str(parameters[name])) else "missing"
            for name, spec in sorted(definition.spec.parameters.items())
            if isinstance(spec.type, type) and issubclass(spec.type, ExternalPath) and parameters.get(name)
        },
        "inputs": {
            name: artifact_fingerprint(a) if a else "none"
            for name, a in sorted(inputs.items())
            if definition.spec.inputs[name].in_cache_key
        },
        "libraries": _libraries(node),
    }
    return CacheKey(digest(_canonical(parts)), parts)


def _libraries(node: Node) -> dict[str, str]:
    definition = node.definition
    names = set(definition.libraries)
    if callable(definition.executor):
        names |= libraries_used_by(definition.executor)
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

"""Serving's dependencies: its own modules, the error hierarchy and the public APIs of the metadata layer
and the registry (whose aliases the server follows)."""

from __future__ import annotations

import ast
import pathlib

import pipelinekit.metadata
import pipelinekit.registry

SERVING = pathlib.Path(__file__).resolve().parents[2] / "pipelinekit" / "serving"
PUBLIC = {"pipelinekit.metadata": pipelinekit.metadata, "pipelinekit.registry": pipelinekit.registry}
ALLOWED = {"pipelinekit.serving", "pipelinekit.errors", *PUBLIC}


def _pipelinekit_imports(path: pathlib.Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every pipelinekit import in ``path``, at module level or in a function."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names if a.name.split(".")[0] == "pipelinekit"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "pipelinekit":
            found.append((node.lineno, node.module or "", [a.name for a in node.names]))
    return found


def test_serving_imports_only_the_public_metadata_and_registry_apis():
    wrong = []
    for path in sorted(SERVING.rglob("*.py")):
        for line, module, names in _pipelinekit_imports(path):
            where = f"{path.relative_to(SERVING.parents[1])}:{line}"
            if module == "pipelinekit" or not any(module == a or module.startswith(a + ".") for a in ALLOWED):
                wrong.append(
                    f"{where}: imports {module} (serving may use pipelinekit.errors, pipelinekit.metadata, pipelinekit.registry)"
                )
            for layer, package in PUBLIC.items():
                if module.startswith(layer + "."):
                    wrong.append(f"{where}: imports {module}, an internal of {layer}; import from {layer}")
                elif module == layer:
                    wrong += [f"{where}: {n} is not in {layer}.__all__" for n in names if n not in package.__all__]
    assert wrong == []


def test_the_check_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "def f():\n    from pipelinekit.dsl.metadata_config import sqlite_metadata\n    import pipelinekit.metadata.store\n"
    )
    assert [(line, name) for line, name, _ in _pipelinekit_imports(module)] == [
        (2, "pipelinekit.dsl.metadata_config"),
        (3, "pipelinekit.metadata.store"),
    ]

"""The package's shape: a light top-level import, and imports that only point down the layers."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "pipelinekit"

# Each layer may import itself and the layers after it in this list, never one before it.
LAYERS = ["cli", "serving", "registry", "orchestration", "metadata", "compile", "dsl", "types", "errors"]


def test_import_and_compile_load_no_heavy_library():
    code = (
        "import sys, pipelinekit\n"
        "from pipelinekit import Pipeline, compile_pipeline, component, OutputArtifact, Examples\n"
        "@component\n"
        "def f(out: OutputArtifact[Examples]): pass\n"
        "compile_pipeline(Pipeline('p', '/tmp/p', [f()]))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'apache_beam', 'ml_metadata', 'pandas', 'numpy', 'tfx_bsl', 'grpc'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "pipelinekit" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in LAYERS else None


def test_imports_point_down_the_layers():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        own = _layer_of(".".join(relative.parts))
        if own is None:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            targets = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for target in targets:
                layer = _layer_of(target)
                if layer and LAYERS.index(layer) < LAYERS.index(own):
                    wrong.append(f"{relative}: imports {target} ({own} -> {layer})")
    assert wrong == []

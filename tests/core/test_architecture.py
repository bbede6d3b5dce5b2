"""The package's shape: a light top-level import, and imports that only point down the layers."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "pipelinekit"
# The top-level components/ folder is installed as pipelinekit.components (setup.py package_dir).
SOURCES = {PACKAGE: "pipelinekit", ROOT / "components": "pipelinekit.components"}

# Each layer may import itself and the layers after it in this list, never one before it.
LAYERS = [
    "cli",
    "ui",
    "report",
    "monitor",
    "tfx",
    "components",
    "serving",
    "registry",
    "orchestration",
    "metadata",
    "compile",
    "dsl",
    "types",
    "proto",
    "errors",
]


def test_import_compile_and_the_component_classes_load_no_heavy_library():
    code = (
        "import sys, pipelinekit\n"
        "from pipelinekit import Pipeline, compile_pipeline, component, OutputArtifact, Examples\n"
        "@component\n"
        "def f(out: OutputArtifact[Examples]): pass\n"
        "compile_pipeline(Pipeline('p', '/tmp/p', [f()]))\n"
        "import pipelinekit.components as components\n"
        "[getattr(components, name) for name in components.__all__]\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'apache_beam', 'ml_metadata', 'pandas', 'numpy', 'tfx_bsl', 'grpc'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "pipelinekit" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in LAYERS else None


def _imports() -> list[tuple[str, str]]:
    """(module, module it imports) for every import statement in pipelinekit and the components."""
    found = []
    for folder, package in SOURCES.items():
        for path in folder.rglob("*.py"):
            module = ".".join([package, *path.relative_to(folder).with_suffix("").parts])
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    found += [(module, alias.name) for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    found.append((module, node.module or ""))
    return found


def test_imports_point_down_the_layers():
    wrong = []
    for module, target in _imports():
        own, layer = _layer_of(module), _layer_of(target)
        if own and layer and LAYERS.index(layer) < LAYERS.index(own):
            wrong.append(f"{module}: imports {target} ({own} -> {layer})")
    assert wrong == []


# What the standard components build on: never the TFX facade above them (a cycle), nor the
# launcher's, the cache's or ML Metadata's modules; of orchestration only what it exports.
COMPONENTS_USE = {"components", "dsl", "types", "proto", "errors", "serving"}


def test_the_components_use_the_dsl_types_errors_and_the_public_orchestration_api():
    wrong = [
        f"{module}: imports {target}"
        for module, target in _imports()
        if _layer_of(module) == "components"
        and target.startswith("pipelinekit.")
        and target != "pipelinekit.orchestration"
        and _layer_of(target) not in COMPONENTS_USE
    ]
    assert wrong == []


def _module_file(module: str) -> pathlib.Path | None:
    """The source file of a ``pipelinekit.components...`` module (the package or the .py file)."""
    rest = module.split(".")[2:]
    base = ROOT.joinpath("components", *rest)
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _top_level_names(path: pathlib.Path) -> set[str] | None:
    """Names a module defines or imports at its top level; None when it has a module ``__getattr__``."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name == "__getattr__":
                return None
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    return names


def test_every_name_imported_from_the_components_exists():
    """mypy sees components/ as a top-level package, not as pipelinekit.components, so it cannot
    check these imports; a renamed helper broke an executor only when its node ran."""
    missing = []
    for folder in (*SOURCES, ROOT / "tests", ROOT / "examples", ROOT / "bench"):
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not (
                    isinstance(node, ast.ImportFrom)
                    and node.level == 0
                    and (node.module or "").startswith("pipelinekit.components")
                ):
                    continue
                target = _module_file(node.module or "")
                if target is None:
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: no module {node.module}")
                    continue
                defined = _top_level_names(target)
                for alias in node.names:
                    submodule = _module_file(f"{node.module}.{alias.name}")
                    if defined is not None and alias.name not in defined and submodule is None and alias.name != "*":
                        missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.module} has no {alias.name}")
    assert missing == []

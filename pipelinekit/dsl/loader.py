"""Load the Pipeline that a user's pipeline file defines."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import traceback

from pipelinekit.dsl.pipeline import Pipeline
from pipelinekit.errors import DefinitionError

__all__ = ["load_pipeline"]


def load_pipeline(path: str, variable: str | None = None) -> Pipeline:
    """Import the file at ``path`` as a module and return its Pipeline: the one named ``variable``,
    else the one named ``pipeline``, else the only Pipeline it defines.

    The file's folder stays importable for the rest of the process, and for the processes it
    starts (``PYTHONPATH``), so modules beside the pipeline file import when nodes run, also in
    Beam workers. The file is imported under its own name when that name is free, so functions
    defined in it can be pickled by reference.
    """
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise DefinitionError(f"pipeline file {path} does not exist")
    folder = os.path.dirname(path)
    _make_importable(folder)
    module_name = _module_name(path)
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except DefinitionError:
        raise
    except Exception as error:
        raise DefinitionError(f"pipeline file {path}{_line_of(error, path)} raised {type(error).__name__}: {error}") from error
    return _pick(path, vars(module), variable)


def _make_importable(folder: str) -> None:
    if folder not in sys.path:
        sys.path.insert(0, folder)
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if folder not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([folder, *filter(None, paths)])


def _module_name(path: str) -> str:
    """The file's own module name when importing that name finds this very file, else a private one."""
    stem = os.path.splitext(os.path.basename(path))[0]
    if stem.isidentifier() and stem not in sys.builtin_module_names:
        try:
            spec = importlib.util.find_spec(stem) if stem not in sys.modules else None
        except (ImportError, ValueError):
            spec = None
        loaded = sys.modules.get(stem)
        origin = spec.origin if spec else getattr(loaded, "__file__", None)
        if origin and os.path.abspath(origin) == path:
            return stem
    return "_pipelinekit_file_" + re.sub(r"\W", "_", stem)


def _line_of(error: BaseException, path: str) -> str:
    """``", line N"`` of the innermost frame of ``error`` in the pipeline file itself."""
    if isinstance(error, SyntaxError) and error.lineno:
        return f", line {error.lineno}"
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__) if os.path.abspath(frame.filename) == path]
    return f", line {lines[-1]}" if lines else ""


def _pick(path: str, namespace: dict[str, object], variable: str | None) -> Pipeline:
    found = {name: value for name, value in namespace.items() if isinstance(value, Pipeline)}
    wanted = variable or ("pipeline" if "pipeline" in found else None)
    if wanted:
        if wanted not in found:
            raise DefinitionError(f"pipeline file {path} has no Pipeline named {wanted!r}; it has: {', '.join(found) or 'none'}")
        return found[wanted]
    if len(found) != 1:
        names = ", ".join(found) or "none"
        raise DefinitionError(f"pipeline file {path} must define exactly one Pipeline (or one named 'pipeline'); found: {names}")
    return next(iter(found.values()))

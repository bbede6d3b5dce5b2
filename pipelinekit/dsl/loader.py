"""Load the Pipeline that a user's pipeline file defines."""

from __future__ import annotations

import importlib.util
import os
import re
import sys

from pipelinekit.dsl.pipeline import Pipeline
from pipelinekit.errors import DefinitionError

__all__ = ["load_pipeline"]


def load_pipeline(path: str, variable: str | None = None) -> Pipeline:
    """Import the file at ``path`` as a module and return its Pipeline: the one named ``variable``,
    else the one named ``pipeline``, else the only Pipeline it defines."""
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise DefinitionError(f"pipeline file {path} does not exist")
    module_name = "_pipelinekit_file_" + re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0])
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, os.path.dirname(path))
    try:
        spec.loader.exec_module(module)
    except DefinitionError:
        raise
    except Exception as error:
        raise DefinitionError(f"pipeline file {path} raised {type(error).__name__}: {error}") from error
    finally:
        sys.path.remove(os.path.dirname(path))
    return _pick(path, vars(module), variable)


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

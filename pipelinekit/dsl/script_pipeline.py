"""Pipeline files written as scripts, TFX's style: the Pipeline is built under
``if __name__ == "__main__":`` and handed to a runner's ``run``. ``pipelinekit run`` executes
such a file once, under its importable module name, with those blocks enabled and the runners'
``run`` handing the Pipeline over instead of running it, so the CLI runs it (with its progress)
as it runs a file that defines its Pipeline at the top. Processes that import the file by name
later (Beam workers unpickling its functions) do not run those blocks."""

from __future__ import annotations

import ast
import sys
from contextvars import ContextVar
from types import CodeType
from typing import Any

__all__ = ["offer_to_loader", "script_code", "run_script"]

_loading_script: ContextVar[bool] = ContextVar("loading_script", default=False)


class _Handed(BaseException):
    """Stops the script at its runner's ``run``, carrying what it was given (a BaseException, so
    the script's own ``except Exception`` does not swallow it)."""

    def __init__(self, pipeline: Any) -> None:
        super().__init__("pipeline handed to the loader")
        self.pipeline = pipeline


def offer_to_loader(pipeline: Any) -> None:
    """Called by the runners before running: while a script is being loaded, stop it there and
    hand ``pipeline`` to :func:`run_script`; otherwise do nothing."""
    if _loading_script.get():
        raise _Handed(pipeline)


def script_code(source: str, path: str) -> CodeType | None:
    """The file's code with its top-level ``if __name__ == "__main__":`` blocks enabled (line
    numbers kept), or None when it has none."""
    tree = ast.parse(source, filename=path)
    guards = [node for node in tree.body if isinstance(node, ast.If) and _is_main_guard(node.test)]
    if not guards:
        return None
    for guard in guards:
        guard.test = ast.copy_location(ast.Constant(True), guard.test)
    return compile(tree, path, "exec")


def run_script(code: CodeType, namespace: dict[str, Any]) -> Any | None:
    """Execute ``code`` in ``namespace`` and return what it hands to a runner's ``run``; None
    when it runs none. ``sys.argv`` holds only the file's path meanwhile, as under ``python FILE``:
    the CLI's own arguments are not the script's flags (TFX's files parse theirs with absl)."""
    token = _loading_script.set(True)
    argv, sys.argv = sys.argv, [code.co_filename]
    try:
        exec(code, namespace)  # noqa: S102  # the user's own pipeline file, as importing it would
    except _Handed as handed:
        return handed.pipeline
    finally:
        sys.argv = argv
        _loading_script.reset(token)
    return None


def _is_main_guard(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = {_name_or_text(test.left), _name_or_text(test.comparators[0])}
    return sides == {"name:__name__", "text:__main__"}


def _name_or_text(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return f"name:{node.id}"
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return f"text:{node.value}"
    return ""

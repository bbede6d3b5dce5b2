"""Loading and calling the user's ``run_fn``/``tuner_fn`` with errors that name the file and function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipelinekit.components.util.module_loader import load_function

from pipelinekit.errors import RunError

__all__ = ["UserFunctionError", "UserFunction"]


class UserFunctionError(RunError):
    """The user's function raised, or did not do what the component needs; the cause is kept."""


class UserFunction:
    """``fn_name`` from ``module_file`` or a dotted path, with ``where`` naming it in errors."""

    def __init__(self, fn_name: str, module_file: str | None, dotted_path: str | None) -> None:
        self.fn_name = fn_name
        self.where = f"{fn_name} in module file {module_file}" if module_file else f"{fn_name}={dotted_path!r}"
        self.function: Callable[..., Any] = load_function(fn_name, module_file, dotted_path)

    def __call__(self, *args: Any) -> Any:
        try:
            return self.function(*args)
        except Exception as error:
            raise UserFunctionError(f"{self.where} raised {type(error).__name__}: {error}") from error

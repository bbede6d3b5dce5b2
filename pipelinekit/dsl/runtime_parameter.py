"""``RuntimeParameter``: a parameter value given when the pipeline is run, not when it is defined."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelinekit.errors import DefinitionError

__all__ = ["RuntimeParameter"]

_PTYPES = (int, float, str)


class RuntimeParameter:
    """TFX's ``RuntimeParameter(name, ptype, default=None, description=None)``: stands for a
    parameter value given at run time, by ``runner.run(pipeline, runtime_parameters={name: value})``
    (text is converted to ``ptype``); the default when none is given.
    The value used is part of the node's cache key."""

    def __init__(self, name: str, ptype: type, default: Any = None, description: str | None = None) -> None:
        if ptype not in _PTYPES:
            raise DefinitionError(f"RuntimeParameter {name!r}: ptype must be int, float or str, got {ptype!r}")
        if default is not None and self._problem(ptype, default):
            raise DefinitionError(f"RuntimeParameter {name!r}: default {default!r} is not a {ptype.__name__}")
        self.name = name
        self.ptype = ptype
        self.default = default
        self.description = description

    def problem_with(self, value: Any) -> str | None:
        """Why ``value`` cannot be this parameter's value, or ``None``."""
        return self._problem(self.ptype, value)

    @staticmethod
    def _problem(ptype: type, value: Any) -> str | None:
        fits = isinstance(value, ptype) and not isinstance(value, bool)
        if ptype is float and isinstance(value, int) and not isinstance(value, bool):
            fits = True
        return None if fits else f"expected {ptype.__name__}, got {type(value).__name__} {value!r}"

    def value_from(self, values: Mapping[str, Any]) -> Any:
        """The value given for this parameter at run time (text converted to ``ptype``), else its default."""
        value = values.get(self.name, self.default)
        if isinstance(value, str) and self.ptype is not str:
            try:
                return self.ptype(value)
            except ValueError:
                return value  # problem_with names it
        return value

    def __repr__(self) -> str:
        return f"RuntimeParameter({self.name!r}, {self.ptype.__name__}, default={self.default!r})"

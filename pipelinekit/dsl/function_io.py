"""TFX's calling conventions for function components, beyond artifacts and parameters.

A bare ``int``/``float``/``str``/``bytes``/``bool`` (or ``dict``/``list``) argument is an input
whose value artifact's value is passed in; ``-> OutputDict(accuracy=float)`` (or a TypedDict)
declares outputs whose values the function returns; a ``BeamComponentParameter`` argument gets
a Beam pipeline. :class:`FunctionIO` records which arguments are which and makes the call.
"""

from __future__ import annotations

import logging
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pipelinekit.types.standard import Boolean, Bytes, Float, Integer, JsonValue, String, ValueArtifact

__all__ = ["FunctionIO", "value_type_of", "returned_outputs_of"]

log = logging.getLogger(__name__)

_VALUE_TYPES: dict[Any, type[ValueArtifact]] = {int: Integer, float: Float, str: String, bytes: Bytes, bool: Boolean}


def value_type_of(hint: Any) -> tuple[type[ValueArtifact], bool] | None:
    """The value artifact type that carries values of ``hint`` and whether ``None`` is allowed
    (``Optional[float]`` -> ``(Float, True)``, ``dict[str, int]`` -> ``(JsonValue, False)``);
    ``None`` when ``hint`` is not a value type."""
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(members) != 1:
            return None
        optional, hint = True, members[0]
    if hint in _VALUE_TYPES:
        return _VALUE_TYPES[hint], optional
    if (typing.get_origin(hint) or hint) in (dict, list):
        return JsonValue, optional
    return None


def returned_outputs_of(annotation: Any, where: str) -> dict[str, tuple[type[ValueArtifact], bool]]:
    """The outputs a return annotation declares (``OutputDict(...)`` or a TypedDict), by name."""
    from pipelinekit.errors import ComponentDefinitionError
    from pipelinekit.types.annotations import OutputDict

    if annotation is None or annotation is type(None):
        return {}
    if isinstance(annotation, OutputDict):
        declared = annotation.kwargs
    elif typing.is_typeddict(annotation):
        declared = typing.get_type_hints(annotation)
    else:
        raise ComponentDefinitionError(
            f"{where}: the return annotation must be OutputDict(name=type, ...), a TypedDict or None, got {annotation!r}"
        )
    outputs = {}
    for name, hint in declared.items():
        value_type = value_type_of(hint)
        if value_type is None:
            raise ComponentDefinitionError(
                f"{where}: returned output {name!r} has type {hint!r}; use int, float, str, bytes, bool, dict or list (or Optional of one)"
            )
        outputs[name] = value_type
    return outputs


@dataclass(frozen=True)
class FunctionIO:
    """Which arguments of a function component take values, which outputs it returns (with
    whether ``None`` is allowed), and which argument gets a Beam pipeline."""

    value_inputs: tuple[str, ...] = ()
    returned_outputs: tuple[tuple[str, bool], ...] = ()
    beam_argument: str | None = None

    def call(self, function: Callable[..., Any], arguments: dict[str, Any], make_beam_pipeline: Callable[[], Any]) -> None:
        """Call ``function`` with ``arguments`` (artifacts by name) as TFX does, then write the
        returned values into the returned outputs' artifacts."""
        arguments = dict(arguments)
        returned = {name: (arguments.pop(name), optional) for name, optional in self.returned_outputs}
        for name in self.value_inputs:
            artifact = arguments.pop(name)
            if artifact is not None:  # an unwired optional input keeps the function's default
                arguments[name] = artifact.value
        if self.beam_argument:
            arguments[self.beam_argument] = make_beam_pipeline()
        result = function(**arguments)
        if not returned:
            return
        _store_returned(function.__name__, result, returned)


def _store_returned(function_name: str, result: Any, returned: dict[str, tuple[ValueArtifact, bool]]) -> None:
    if not isinstance(result, Mapping):
        raise TypeError(
            f"component {function_name!r} must return a dict with the outputs {sorted(returned)}, got {type(result).__name__} {result!r}"
        )
    missing = sorted(set(returned) - set(result))
    if missing:
        raise ValueError(f"component {function_name!r} did not return the outputs {missing} its return annotation declares")
    extra = sorted(set(result) - set(returned))
    if extra:
        log.warning(
            "component %r returned %s, which its return annotation does not declare; they are not stored", function_name, extra
        )
    for name, (artifact, optional) in returned.items():
        value = result[name]
        if value is None and not optional:
            raise ValueError(
                f"component {function_name!r} returned None for output {name!r}; declare it Optional[...] to allow that"
            )
        try:
            artifact.value = value
        except TypeError as error:
            raise TypeError(f"component {function_name!r}, output {name!r}: {error}") from None

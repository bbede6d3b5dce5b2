"""Frozen descriptions of a component's inputs, outputs and parameters, and their checks."""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import Any

from pipelinekit.types.annotations import ExternalPath, ModuleFile
from pipelinekit.types.artifact import Artifact

__all__ = ["InputSpec", "OutputSpec", "ParameterSpec", "ComponentSpec", "REQUIRED", "type_name"]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""Default of a parameter that has none: the user must set it."""

PARAMETER_TYPES: tuple[type, ...] = (int, float, str, bool, dict, list, ExternalPath, ModuleFile)


@dataclass(frozen=True)
class InputSpec:
    """An input channel of artifact type ``type``; optional inputs may be left unwired.

    ``in_cache_key=False`` marks an input that can only speed the work up, never change its
    result (Transform's analyzer cache): it is left out of the cache key.

    ``multiple=True`` makes the executor get a list of artifacts (possibly empty when
    optional) instead of one: what a Resolver with several choices (SpanRangeStrategy,
    LatestArtifactStrategy(desired_num_of_artifacts=N)) gives, in the order it gives them.
    """

    type: type[Artifact]
    optional: bool = False
    in_cache_key: bool = True
    multiple: bool = False


@dataclass(frozen=True)
class OutputSpec:
    """An output of artifact type ``type``; the node writes it under a fresh URI.

    ``optional=True`` marks an output that a node may be made without (Transform's
    ``transformed_examples`` when ``materialize=False``): such a node has no channel, folder,
    MLMD artifact or executor argument for it, and its spec, hence its cache key, lists only
    the outputs it has.
    """

    type: type[Artifact]
    optional: bool = False


@dataclass(frozen=True)
class ParameterSpec:
    """A parameter of type ``type`` (int, float, str, bool, dict, list, or list[int]-like forms)."""

    type: Any
    default: Any = REQUIRED

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def problem_with(self, value: Any) -> str | None:
        """Why ``value`` does not fit this parameter, or ``None`` when it does."""
        return _type_problem(self.type, value)


@dataclass(frozen=True)
class ComponentSpec:
    """Everything a node of a component may be wired with, by argument name."""

    inputs: dict[str, InputSpec] = field(default_factory=dict)
    outputs: dict[str, OutputSpec] = field(default_factory=dict)
    parameters: dict[str, ParameterSpec] = field(default_factory=dict)

    def argument_names(self) -> list[str]:
        return [*self.inputs, *self.outputs, *self.parameters]

    def describe(self) -> dict[str, Any]:
        """A canonical, JSON-ready form of the spec, used in cache keys."""
        return {
            "inputs": {
                k: [v.type.TYPE_NAME, v.optional, v.in_cache_key, *(["multiple"] if v.multiple else [])]
                for k, v in sorted(self.inputs.items())
            },
            "outputs": {k: v.type.TYPE_NAME for k, v in sorted(self.outputs.items())},
            "parameters": {k: type_name(v.type) for k, v in sorted(self.parameters.items())},
        }


def type_name(value_type: Any) -> str:
    """A readable name for a parameter or artifact type, e.g. ``list[int]`` or ``Examples``."""
    if isinstance(value_type, type):
        return getattr(value_type, "TYPE_NAME", value_type.__name__)
    return str(value_type).replace("typing.", "")


def is_supported_parameter_type(value_type: Any) -> bool:
    """Whether ``value_type`` is a parameter type we can check and serialize."""
    origin = typing.get_origin(value_type) or value_type
    return origin in PARAMETER_TYPES


def _type_problem(value_type: Any, value: Any) -> str | None:
    origin = typing.get_origin(value_type) or value_type
    if origin is float and isinstance(value, int) and not isinstance(value, bool):
        return None
    if origin in (ExternalPath, ModuleFile):
        origin = str
    if origin is int and isinstance(value, bool):
        return f"expected int, got bool {value!r}"
    if not isinstance(value, origin):
        return f"expected {type_name(value_type)}, got {type(value).__name__} {value!r}"
    args = typing.get_args(value_type)
    if origin is list and args:
        return _first_problem(args[0], value)
    if origin is dict and len(args) == 2:
        return _first_problem(args[0], list(value)) or _first_problem(args[1], list(value.values()))
    return None


def _first_problem(item_type: Any, items: list[Any]) -> str | None:
    if item_type is Any:
        return None
    for index, item in enumerate(items):
        problem = _type_problem(item_type, item)
        if problem:
            return f"item {index}: {problem}"
    return None

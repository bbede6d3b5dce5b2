"""Annotations that mark a component function's arguments as inputs, outputs or parameters.

``InputArtifact[Examples]`` and friends are ordinary generic aliases, so ``Optional[...]`` and
``X | None`` work, and :func:`parse_annotation` reads them back with ``typing.get_origin``.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = [
    "InputArtifact",
    "OutputArtifact",
    "AsyncOutputArtifact",
    "Parameter",
    "BeamComponentParameter",
    "OutputDict",
    "ModuleFile",
    "ExternalPath",
    "ParsedAnnotation",
    "parse_annotation",
]

A = TypeVar("A")
P = TypeVar("P")


class InputArtifact(Generic[A]):
    """Marks an argument as an input artifact of type ``A``; the executor receives an ``A``."""


class OutputArtifact(Generic[A]):
    """Marks an argument as an output artifact of type ``A``; write files under its ``uri``."""


class AsyncOutputArtifact(Generic[A]):
    """TFX's output that a long-running component may publish before it finishes. pipelinekit
    publishes every output when the node finishes, so this is an ``OutputArtifact``."""


class Parameter(Generic[P]):
    """Marks an argument as a parameter: a JSON-like value fixed when the pipeline is defined."""


class BeamComponentParameter(Generic[P]):
    """Marks an argument (default ``None``) that receives a ``beam.Pipeline`` made from the
    pipeline's ``beam_pipeline_args``; use it in a ``with`` block."""


class OutputDict:
    """A function component's return annotation, ``-> OutputDict(accuracy=float)``: each name is
    an output holding the returned value as a value artifact (``Float``, ``Integer``, ...)."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs

    def __repr__(self) -> str:
        return f"OutputDict({', '.join(f'{k}={v!r}' for k, v in self.kwargs.items())})"


class ExternalPath(str):
    """A parameter holding a file or folder outside the pipeline root; its content is part of the
    cache key, so a node that reads it runs again when the data changes."""


class ModuleFile(ExternalPath):
    """A parameter holding the path of a user module file (a Python file a component loads)."""


@dataclass(frozen=True)
class ParsedAnnotation:
    """What an annotation says: the role, the wrapped type and whether ``None`` is allowed."""

    role: str  # "input", "output", "parameter" or "beam"
    value_type: Any
    optional: bool


_ROLES = {
    InputArtifact: "input",
    OutputArtifact: "output",
    AsyncOutputArtifact: "output",
    Parameter: "parameter",
    BeamComponentParameter: "beam",
}


def parse_annotation(annotation: Any) -> ParsedAnnotation | None:
    """Read an argument annotation; ``None`` when it is not one of ours."""
    optional = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) != 1:
            return None
        optional = len(members) < len(typing.get_args(annotation))
        annotation = members[0]
        origin = typing.get_origin(annotation)
    role = _ROLES.get(origin)  # type: ignore[call-overload]
    if role is None:
        return None
    (value_type,) = typing.get_args(annotation)
    return ParsedAnnotation(role, value_type, optional)

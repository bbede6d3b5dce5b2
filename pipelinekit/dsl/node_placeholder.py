"""TFX's node placeholders: ``exec_property(key)``, ``input(key)`` and ``output(key)`` stand,
in a component argument, for a value of the node's own run: another parameter's value, an input
or output artifact's ``uri`` / ``split_uri(split)`` / ``value`` / property. They join text with
``+``, and may sit inside a dict or list argument (``custom_config``).

The launcher resolves them once the node's inputs are known; the resolved value is what the cache
key sees. An output's URI exists only when the node runs, so a value that reads an output is keyed
by the placeholder's text (the outputs are the node's own: a cache hit reuses the outputs that
value named) and resolved just before the executor is called.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pipelinekit.dsl.placeholder import MissingValueError, PlaceholderError, artifact_value
from pipelinekit.errors import DefinitionError
from pipelinekit.types.artifact import Artifact

__all__ = [
    "NodePlaceholder",
    "NodeValues",
    "exec_property",
    "input",
    "output",
    "node_placeholders",
    "substitute",
    "reads_outputs",
    "key_problems",
]


@dataclass
class NodeValues:
    """What a node's placeholders read: its inputs (an artifact, a list or None per key), its
    outputs (None until the node runs) and its parameter values."""

    node_id: str
    inputs: Mapping[str, Any]
    exec_properties: Mapping[str, Any]
    outputs: Mapping[str, Any] | None = field(default=None)


class NodePlaceholder(ABC):
    """A value of the node's own run; ``+`` joins it with text or another placeholder."""

    @abstractmethod
    def resolve(self, values: NodeValues) -> Any:
        """The value this placeholder stands for in the node's run."""

    @abstractmethod
    def leaves(self) -> list[NodePlaceholder]:
        """The exec-property and artifact placeholders it reads (for the compile-time key check)."""

    def __add__(self, other: Any) -> NodePlaceholder:
        return _Concat([self, other])

    def __radd__(self, other: Any) -> NodePlaceholder:
        return _Concat([other, self])

    def __bool__(self) -> bool:
        raise DefinitionError(f"{self!r} is only known when the node runs, so it has no truth value here")


class _ExecProperty(NodePlaceholder):
    """``exec_property(key)``, optionally indexed (``['name']``, ``[0]``) into a dict or list value."""

    def __init__(self, key: str, path: tuple[Any, ...] = ()) -> None:
        self.key = key
        self.path = path

    def __getitem__(self, item: Any) -> _ExecProperty:
        return _ExecProperty(self.key, (*self.path, item))

    def leaves(self) -> list[NodePlaceholder]:
        return [self]

    def resolve(self, values: NodeValues) -> Any:
        if self.key not in values.exec_properties:
            raise PlaceholderError(f"{self!r}: the node has no parameter {self.key!r}")
        value = values.exec_properties[self.key]
        for item in self.path:
            try:
                value = value[item]
            except (KeyError, IndexError, TypeError) as error:
                raise MissingValueError(f"{self!r}: {type(error).__name__} {error} in {value!r}") from None
        return value

    def __repr__(self) -> str:
        return f"exec_property({self.key!r})" + "".join(f"[{item!r}]" for item in self.path)


class _Artifact(NodePlaceholder):
    """``input(key)`` / ``output(key)``, optionally ``[index]`` (the first artifact when not
    indexed, as TFX): read one of its values with the attributes below."""

    def __init__(self, key: str, is_input: bool, index: int | None = None) -> None:
        self.key = key
        self.is_input = is_input
        self.index = index

    def __getitem__(self, index: int) -> _Artifact:
        if self.index is not None or not isinstance(index, int) or isinstance(index, bool):
            raise DefinitionError(f"{self!r}[{index!r}]: index an input or output once, with an int, e.g. input('examples')[0]")
        return _Artifact(self.key, self.is_input, index)

    @property
    def uri(self) -> NodePlaceholder:
        return _ArtifactValue(self, "uri")

    def split_uri(self, split: str) -> NodePlaceholder:
        """The folder of one split, ``<uri>/Split-<split>``."""
        return _ArtifactValue(self, "split_uri", split)

    @property
    def value(self) -> NodePlaceholder:
        """The value of a value artifact (String, Integer, ...); only of an input, as in TFX."""
        if not self.is_input:
            raise DefinitionError(f"{self!r}.value: an output has no value before its node writes it; use .uri")
        return _ArtifactValue(self, "value")

    def property(self, name: str) -> NodePlaceholder:
        return _ArtifactValue(self, "property", name)

    def custom_property(self, name: str) -> NodePlaceholder:
        return _ArtifactValue(self, "custom_property", name)

    def leaves(self) -> list[NodePlaceholder]:
        return [self]

    def artifact(self, values: NodeValues) -> Artifact:
        side = values.inputs if self.is_input else values.outputs
        if side is None:
            raise PlaceholderError(f"{self!r}: outputs exist only while the node runs")
        if self.key not in side:
            raise PlaceholderError(f"{self!r}: the node has no {'input' if self.is_input else 'output'} {self.key!r}")
        held = side[self.key]
        artifacts = held if isinstance(held, list) else [held] if held is not None else []
        index = self.index or 0
        if index >= len(artifacts):
            raise MissingValueError(f"{self!r}: {self.key!r} holds {len(artifacts)} artifact(s) in this run")
        return artifacts[index]

    def resolve(self, values: NodeValues) -> Any:
        raise PlaceholderError(
            f"{self!r} stands for an artifact, not a value; use .uri, .value, .property(name) or .custom_property(name)"
        )

    def __repr__(self) -> str:
        index = "" if self.index is None else f"[{self.index}]"
        return f"{'input' if self.is_input else 'output'}({self.key!r}){index}"


class _ArtifactValue(NodePlaceholder):
    def __init__(self, artifact: _Artifact, kind: str, name: str = "") -> None:
        self.artifact = artifact
        self.kind = kind
        self.name = name

    def leaves(self) -> list[NodePlaceholder]:
        return [self.artifact]

    def resolve(self, values: NodeValues) -> Any:
        artifact = self.artifact.artifact(values)
        if self.kind == "split_uri":
            return os.path.join(artifact.uri, f"Split-{self.name}")
        return artifact_value(artifact, self.kind, self.name, repr(self))

    def __repr__(self) -> str:
        if self.kind in ("uri", "value"):
            return f"{self.artifact!r}.{self.kind}"
        return f"{self.artifact!r}.{self.kind}({self.name!r})"


class _Concat(NodePlaceholder):
    """Text joined from strings and placeholders, each resolved value turned into text."""

    def __init__(self, items: list[Any]) -> None:
        self.items: list[Any] = []
        for item in items:
            if not isinstance(item, (str, NodePlaceholder)):
                raise DefinitionError(f"a placeholder joins with text or another placeholder, not {type(item).__name__} {item!r}")
            self.items.extend(item.items if isinstance(item, _Concat) else [item])

    def leaves(self) -> list[NodePlaceholder]:
        return [leaf for item in self.items if isinstance(item, NodePlaceholder) for leaf in item.leaves()]

    def resolve(self, values: NodeValues) -> str:
        return "".join(str(item.resolve(values)) if isinstance(item, NodePlaceholder) else item for item in self.items)

    def __repr__(self) -> str:
        return " + ".join(repr(item) for item in self.items)


def exec_property(key: str) -> _ExecProperty:
    """TFX's ``ph.exec_property(key)``: the value of the node's parameter ``key``."""
    return _ExecProperty(key)


def input(key: str) -> _Artifact:  # noqa: A001 - TFX's name
    """TFX's ``ph.input(key)``: the artifacts of the node's input ``key``."""
    return _Artifact(key, True)


def output(key: str) -> _Artifact:
    """TFX's ``ph.output(key)``: the artifacts of the node's output ``key``."""
    return _Artifact(key, False)


def node_placeholders(value: Any) -> list[NodePlaceholder]:
    """The node placeholders in a parameter value: the value itself, or inside its dicts and lists."""
    if isinstance(value, NodePlaceholder):
        return [value]
    if isinstance(value, dict):
        return [found for item in value.values() for found in node_placeholders(item)]
    if isinstance(value, (list, tuple)):
        return [found for item in value for found in node_placeholders(item)]
    return []


def substitute(value: Any, resolve: Callable[[NodePlaceholder], Any]) -> Any:
    """``value`` with each node placeholder in it (at any depth of dicts and lists) replaced."""
    if isinstance(value, NodePlaceholder):
        return resolve(value)
    if isinstance(value, dict):
        return {key: substitute(item, resolve) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(substitute(item, resolve) for item in value)
    return value


def reads_outputs(value: Any) -> bool:
    """Whether a parameter value reads an output (known only when the node runs)."""
    return any(isinstance(leaf, _Artifact) and not leaf.is_input for ph in node_placeholders(value) for leaf in ph.leaves())


def key_problems(
    parameter: str, value: Any, inputs: Mapping[str, Any], outputs: Mapping[str, Any], parameters: Mapping[str, Any]
) -> list[str]:
    """What is wrong with the keys the placeholders in parameter ``parameter`` name, given the
    node's input and output keys and its parameter values; each problem names the placeholder."""
    problems = []
    for placeholder in node_placeholders(value):
        for leaf in placeholder.leaves():
            if isinstance(leaf, _Artifact):
                keys, side = (inputs, "input") if leaf.is_input else (outputs, "output")
                if leaf.key not in keys:
                    problems.append(
                        f"{placeholder!r}: the node has no {side} {leaf.key!r} (its {side}s: {', '.join(keys) or 'none'})"
                    )
            elif isinstance(leaf, _ExecProperty):
                if leaf.key not in parameters:
                    problems.append(
                        f"{placeholder!r}: the node has no parameter {leaf.key!r} (its parameters: {', '.join(parameters) or 'none'})"
                    )
                elif leaf.key == parameter or node_placeholders(parameters[leaf.key]):
                    problems.append(
                        f"{placeholder!r}: an exec_property placeholder reads a plain parameter value, not {leaf.key!r}, which is itself a placeholder"
                    )
    return problems

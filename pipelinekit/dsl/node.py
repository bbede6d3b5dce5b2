"""Nodes (a component wired into a pipeline) and channels (typed references to a node's output)."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pipelinekit.errors import UnknownOutputError
from pipelinekit.types.artifact import Artifact

if TYPE_CHECKING:
    from pipelinekit.dsl.component import ComponentDefinition

__all__ = ["Channel", "Node", "did_you_mean"]


def did_you_mean(name: str, choices: list[str]) -> str:
    """A ``" (did you mean 'x'?)"`` hint when ``name`` is close to one of ``choices``."""
    close = difflib.get_close_matches(name, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Channel:
    """A typed reference to the artifacts that ``producer`` publishes under ``output_key``."""

    def __init__(self, producer: Node, output_key: str, artifact_type: type[Artifact]) -> None:
        self.producer = producer
        self.output_key = output_key
        self.type = artifact_type

    def __repr__(self) -> str:
        return f"Channel({self.producer.id}.outputs[{self.output_key!r}]: {self.type.TYPE_NAME})"


class Outputs(Mapping[str, Channel]):
    """A node's output channels; a wrong key names the node and the outputs it has."""

    def __init__(self, node: Node, channels: dict[str, Channel]) -> None:
        self._node = node
        self._channels = channels

    def __getitem__(self, key: str) -> Channel:
        try:
            return self._channels[key]
        except KeyError:
            names = list(self._channels)
            raise UnknownOutputError(
                f"node {self._node.id!r} has no output {key!r}{did_you_mean(key, names)}; "
                f"its outputs are: {', '.join(names) or 'none'}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._channels)

    def __len__(self) -> int:
        return len(self._channels)


class Node:
    """One use of a component in a pipeline: its id, wired inputs and parameter values.

    Arguments are sorted into inputs and parameters here; mistakes are kept and reported all
    together when the pipeline compiles.
    """

    def __init__(self, definition: ComponentDefinition, arguments: dict[str, Any]) -> None:
        self.definition = definition
        self.id = definition.name
        spec = definition.spec
        self.inputs: dict[str, Any] = {k: v for k, v in arguments.items() if k in spec.inputs}
        self.given_parameters: dict[str, Any] = {k: v for k, v in arguments.items() if k in spec.parameters}
        self.misplaced_arguments: dict[str, Any] = {
            k: v for k, v in arguments.items() if k not in spec.inputs and k not in spec.parameters
        }
        self.outputs = Outputs(self, {k: Channel(self, k, o.type) for k, o in spec.outputs.items()})
        self.explicit_upstream: list[Node] = []

    @property
    def parameters(self) -> dict[str, Any]:
        """Effective parameter values: the defaults overlaid with what was given."""
        defaults = {k: p.default for k, p in self.definition.spec.parameters.items() if not p.required}
        return {**defaults, **self.given_parameters}

    def with_id(self, node_id: str) -> Node:
        """Name this node; ids must be unique within a pipeline. Returns the node for chaining."""
        self.id = node_id
        return self

    def add_upstream(self, *nodes: Node) -> Node:
        """Make this node run after ``nodes`` even though it reads none of their outputs."""
        self.explicit_upstream.extend(nodes)
        return self

    @property
    def upstream_nodes(self) -> list[Node]:
        """Nodes this one depends on: producers of its input channels, then explicit ones."""
        found: list[Node] = []
        for value in self.inputs.values():
            if isinstance(value, Channel) and value.producer not in found:
                found.append(value.producer)
        found.extend(n for n in self.explicit_upstream if n not in found)
        return found

    def __repr__(self) -> str:
        return f"<{self.definition.name} node {self.id!r}>"

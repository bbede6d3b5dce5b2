"""Nodes (a component wired into a pipeline) and channels (typed references to artifacts)."""

from __future__ import annotations

import builtins
import difflib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from pipelinekit.dsl.conditional import active_conditions
from pipelinekit.dsl.placeholder import ChannelPlaceholder, Placeholder
from pipelinekit.errors import DefinitionError, RunError, UnknownOutputError
from pipelinekit.types.artifact import Artifact

if TYPE_CHECKING:
    from pipelinekit.dsl.component import ComponentDefinition

__all__ = ["Channel", "Node", "did_you_mean", "bound_parameters"]

_BOUND: ContextVar[dict[int, dict[str, Any]]] = ContextVar("pipelinekit_bound_parameters")


def did_you_mean(name: str, choices: list[str]) -> str:
    """A ``" (did you mean 'x'?)"`` hint when ``name`` is close to one of ``choices``."""
    close = difflib.get_close_matches(name, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Channel:
    """A typed reference to artifacts, in one of two forms.

    ``Channel(producer, output_key, artifact_type)`` (what ``node.outputs[key]`` returns): the
    artifacts ``producer`` publishes under ``output_key`` in the same run.

    ``Channel(type=T, producer_component_id=None, output_key=None)`` (TFX's form): no producer
    node; the LIVE ``T`` artifacts already recorded in this pipeline's ML Metadata, optionally
    only those node ``producer_component_id`` published under ``output_key``. If a node with that
    id is in the pipeline, it runs first. Give it to a ``Resolver`` to pick among them; wired
    straight to an input it gives the newest one (all of them, newest first, to a
    ``multiple`` input).
    """

    def __init__(
        self,
        producer: Node | type[Artifact] | None = None,
        output_key: str | None = None,
        artifact_type: type[Artifact] | None = None,
        *,
        type: type[Artifact] | None = None,  # TFX's keyword
        producer_component_id: str | None = None,
    ) -> None:
        if isinstance(producer, builtins.type):  # TFX's positional form: Channel(Model)
            producer, type = None, type or producer
        if artifact_type is not None and type is not None and artifact_type is not type:
            raise DefinitionError(f"Channel: artifact_type {artifact_type!r} and type {type!r} disagree; give one")
        chosen = artifact_type or type
        if not (isinstance(chosen, builtins.type) and issubclass(chosen, Artifact)):
            raise DefinitionError(f"Channel needs an Artifact subclass as type, e.g. Channel(type=Model); got {chosen!r}")
        if producer is not None and not isinstance(producer, Node):
            raise DefinitionError(f"Channel: producer must be a node, got {builtins.type(producer).__name__} {producer!r}")
        for name, value in (("output_key", output_key), ("producer_component_id", producer_component_id)):
            if value is not None and not isinstance(value, str):
                raise DefinitionError(f"Channel: {name} must be a str, got {builtins.type(value).__name__} {value!r}")
        if producer is not None and (not output_key or producer_component_id):
            raise DefinitionError("Channel(producer, output_key, type) needs an output_key and no producer_component_id")
        self.producer = producer
        self.output_key = output_key
        self.type: builtins.type[Artifact] = chosen
        self._producer_component_id = producer_component_id
        self._artifacts: list[Artifact] | None = None

    @property
    def producer_component_id(self) -> str | None:
        """The id of the node whose artifacts this channel holds, if known."""
        return self.producer.id if self.producer is not None else self._producer_component_id

    @property
    def type_name(self) -> str:
        """The artifact type's MLMD name, as TFX's ``Channel.type_name``."""
        return self.type.TYPE_NAME

    @property
    def label(self) -> str:
        """How messages and placeholders name this channel, e.g. ``Trainer.outputs['model']``."""
        if self.producer is not None:
            return f"{self.producer.id}.outputs[{self.output_key!r}]"
        extra = "".join(
            f", {name}={value!r}"
            for name, value in (("producer_component_id", self._producer_component_id), ("output_key", self.output_key))
            if value
        )
        return f"Channel(type={self.type.TYPE_NAME}{extra})"

    def future(self) -> ChannelPlaceholder:
        """A placeholder for this channel's artifacts at run time: ``.future()[0].value``,
        ``.uri``, ``.property(name)``, ``.custom_property(name)``, comparisons for ``Cond``."""
        return ChannelPlaceholder(self)

    def get(self) -> list[Artifact]:
        """TFX's ``Channel.get()``: the artifacts an interactive run (``InteractiveContext.run``)
        of the producer gave this channel. In a pipeline run, use ``RunResult.output`` instead."""
        if self._artifacts is None:
            raise RunError(f"{self.label} has no artifacts yet: run its producer first with InteractiveContext.run")
        return list(self._artifacts)

    def set_artifacts(self, artifacts: list[Artifact]) -> Channel:
        """Record ``artifacts`` as what ``get()`` returns (TFX's name; the interactive runner calls it)."""
        self._artifacts = list(artifacts)
        return self

    def __repr__(self) -> str:
        return f"Channel({self.label}: {self.type.TYPE_NAME})" if self.producer is not None else self.label


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
    together when the pipeline compiles. A node made inside ``with Cond(predicate):`` keeps
    that predicate in ``conditions`` and runs only when all of them hold.
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
        self.conditions = active_conditions()

    @property
    def parameters(self) -> dict[str, Any]:
        """Effective parameter values: the defaults overlaid with what was given, and while the
        node is launched (see :func:`bound_parameters`), placeholders replaced by their values."""
        defaults = {k: p.default for k, p in self.definition.spec.parameters.items() if not p.required}
        return {**defaults, **self.given_parameters, **_BOUND.get({}).get(id(self), {})}

    def with_id(self, node_id: str) -> Node:
        """Name this node; ids must be unique within a pipeline. Returns the node for chaining."""
        self.id = node_id
        return self

    def add_upstream(self, *nodes: Node) -> Node:
        """Make this node run after ``nodes`` even though it reads none of their outputs."""
        self.explicit_upstream.extend(nodes)
        return self

    def add_upstream_node(self, upstream_node: Node) -> Node:
        """TFX's name for :meth:`add_upstream` with one node."""
        return self.add_upstream(upstream_node)

    def add_downstream_node(self, downstream_node: Node) -> Node:
        """Make ``downstream_node`` run after this one (TFX's name)."""
        downstream_node.add_upstream(self)
        return self

    def dependency_channels(self) -> list[Channel]:
        """Every channel this node reads: its inputs, and those behind placeholder parameters
        and ``Cond`` predicates."""
        found = [value for value in self.inputs.values() if isinstance(value, Channel)]
        placeholders = [v for v in self.given_parameters.values() if isinstance(v, Placeholder)] + list(self.conditions)
        for placeholder in placeholders:
            found.extend(placeholder.channels())
        return found

    @property
    def upstream_nodes(self) -> list[Node]:
        """Nodes this one depends on: producers of the channels it reads, then explicit ones.
        (A producer-less channel's ``producer_component_id`` is matched by the compiler.)"""
        found: list[Node] = []
        for channel in self.dependency_channels():
            if channel.producer is not None and channel.producer not in found:
                found.append(channel.producer)
        found.extend(n for n in self.explicit_upstream if n not in found)
        return found

    def __repr__(self) -> str:
        return f"<{self.definition.name} node {self.id!r}>"


@contextmanager
def bound_parameters(node: Node, values: dict[str, Any]) -> Iterator[None]:
    """Within this block (in this thread or task), ``node.parameters`` has ``values`` in place
    of its placeholder parameters: the launcher binds what they resolved to for one launch, so
    the cache key and the executor see the same values while the node itself stays unchanged."""
    token = _BOUND.set({**_BOUND.get({}), id(node): values}) if values else None
    try:
        yield
    finally:
        if token is not None:
            _BOUND.reset(token)

"""Phase 1 of a launch: what a node's channels, conditions and placeholders stand for in this run.

A channel with a producer node holds what that node published (or reused) in this run; a
channel without one holds the LIVE artifacts of its type already in the pipeline's ML Metadata.
A Resolver node is settled here: its strategy chooses among what its channels hold and the
choice is recorded as a COMPLETE execution (never cached). Any other node gets a
:class:`Binding`, or a skip (recorded as a CANCELED execution) when one of its ``Cond``
predicates is false or a required input got nothing.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipelinekit.dsl.node import Channel, Node
from pipelinekit.dsl.node_placeholder import NodeValues, node_placeholders, reads_outputs, substitute
from pipelinekit.dsl.placeholder import Placeholder, PlaceholderError
from pipelinekit.dsl.resolver import ResolutionError, Resolver
from pipelinekit.dsl.runtime_parameter import RuntimeParameter
from pipelinekit.errors import ComponentFailedError, RunError
from pipelinekit.metadata.names import execution_type_name
from pipelinekit.metadata.store import MetadataStore
from pipelinekit.orchestration.cache import artifact_fingerprint
from pipelinekit.orchestration.fingerprint import digest
from pipelinekit.orchestration.result import FAILED, RAN, SKIPPED, NodeResult
from pipelinekit.types.artifact import Artifact

__all__ = ["Binding", "InputResolutionError", "ResolutionPhase", "event_groups"]

InputValue = Artifact | list[Artifact] | None


class InputResolutionError(RunError):
    """An input got artifacts it cannot take, e.g. several for an input that takes one."""


@dataclass
class Binding:
    """What a node runs on: one artifact (or ``None``) per input, a list for ``multiple``
    inputs, and the values its placeholder parameters resolved to. ``skip_reason`` is set
    when the node must not run. A parameter that reads an output placeholder is keyed by its
    text in ``parameters`` and resolved by :meth:`with_outputs` when the outputs exist."""

    inputs: dict[str, InputValue] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    skip_reason: str = ""
    late: dict[str, Any] = field(default_factory=dict)
    node_values: NodeValues | None = None

    def with_outputs(self, node: Node, outputs: Mapping[str, Artifact]) -> dict[str, Any]:
        """The parameters that read outputs, resolved now that the outputs exist."""
        if not self.late or self.node_values is None:
            return {}
        values = NodeValues(self.node_values.node_id, self.node_values.inputs, self.node_values.exec_properties, outputs)
        return {name: _resolved(node, name, value, values) for name, value in self.late.items()}

    def keyed_inputs(self) -> dict[str, Artifact | None]:
        """The inputs as the cache key takes them, one artifact each: a list is keyed by one
        stand-in whose fingerprint covers its members' fingerprints, in order."""
        return {name: _stand_in(value) if isinstance(value, list) else value for name, value in self.inputs.items()}


def event_groups(values: Mapping[str, InputValue]) -> dict[str, list[Artifact]]:
    """The artifacts to record as INPUT events, by key: each input that holds something as a
    list, and an artifact given under two keys (a model that is also its own baseline) only
    under the first, since MLMD keeps one event per artifact, execution and direction."""
    seen: set[int | None] = set()
    groups: dict[str, list[Artifact]] = {}
    for key, value in values.items():
        for artifact in value if isinstance(value, list) else [value]:
            if artifact is not None and artifact.id not in seen:
                seen.add(artifact.id)
                groups.setdefault(key, []).append(artifact)
    return groups


def _stand_in(artifacts: list[Artifact]) -> Artifact | None:
    if not artifacts:
        return None
    stand_in = Artifact()
    stand_in.set_custom_property("fingerprint", "list:" + digest(*(artifact_fingerprint(a) for a in artifacts)))
    return stand_in


class ResolutionPhase:
    """Resolves one node of one run; ``finished`` holds the results of its upstream nodes."""

    def __init__(
        self,
        store: MetadataStore,
        pipeline_name: str,
        run_id: str,
        finished: dict[str, NodeResult],
        contexts: list[Any],
        started: float,
        runtime_parameters: Mapping[str, Any] | None = None,
    ) -> None:
        self.store = store
        self.pipeline_name = pipeline_name
        self.run_id = run_id
        self.finished = finished
        self.contexts = contexts
        self.started = started
        self.runtime_parameters = runtime_parameters or {}
        self._read: dict[int, list[Artifact]] = {}

    def read(self, channel: Channel) -> list[Artifact]:
        """The artifacts ``channel`` holds in this run, newest first for a producer-less one."""
        if id(channel) not in self._read:
            if channel.producer is not None:
                result = self.finished.get(channel.producer.id)
                found = list(result.outputs.get(channel.output_key or "", [])) if result else []
            else:
                found = self.store.live_artifacts(
                    self.pipeline_name, channel.type.TYPE_NAME, channel.producer_component_id or "", channel.output_key or ""
                )
            self._read[id(channel)] = found
        return self._read[id(channel)]

    # Ordinary nodes ----------------------------------------------------------------------------

    def false_condition(self, node: Node) -> str:
        """Why the node must not run because of one of its ``Cond`` predicates, or ``""``."""
        for predicate in node.conditions:
            if not predicate.resolve(self.read):
                missing = "".join(f"; {reason}" for reason in predicate.missing_values(self.read))
                return f"condition {predicate!r} is false{missing}"
        return ""

    def bind(self, node: Node) -> Binding:
        """The node's inputs and placeholder values, or why it is skipped."""
        binding = Binding(skip_reason=self.false_condition(node))
        if binding.skip_reason:
            return binding
        for name in node.definition.spec.inputs:
            binding.inputs[name], binding.skip_reason = self._input(node, name)
            if binding.skip_reason:
                return binding
        binding.parameters = self._parameters(node)
        self._node_placeholders(node, binding)
        return binding

    def _input(self, node: Node, name: str) -> tuple[InputValue, str]:
        spec = node.definition.spec.inputs[name]
        channel = node.inputs.get(name)
        if not isinstance(channel, Channel):  # an optional input left unwired
            return ([] if spec.multiple else None), ""
        artifacts = self.read(channel)
        if not artifacts:
            if spec.optional:
                return ([] if spec.multiple else None), ""
            return None, f"required input {name!r} got no artifact from {channel.label}"
        if spec.multiple:
            return list(artifacts), ""
        if len(artifacts) > 1 and channel.producer is not None:
            raise InputResolutionError(
                f"node {node.id!r}, input {name!r} takes one {spec.type.TYPE_NAME} but {channel.label} gave {len(artifacts)}; "
                "declare it InputSpec(..., multiple=True) or have the resolver choose one"
            )
        return artifacts[0], ""

    def _parameters(self, node: Node) -> dict[str, Any]:
        resolved = {}
        for name, value in node.given_parameters.items():
            if isinstance(value, RuntimeParameter):
                resolved[name] = value.value_from(self.runtime_parameters)  # checked when compiled
                continue
            if not isinstance(value, Placeholder):
                continue
            where = f"node {node.id!r}, parameter {name!r}"
            try:
                resolved[name] = value.resolve(self.read)
            except PlaceholderError as error:
                raise PlaceholderError(f"{where}: {error}") from error
            problem = node.definition.spec.parameters[name].problem_with(resolved[name])
            if problem:
                raise PlaceholderError(f"{where}: {value!r} resolved to an unfit value: {problem}")
        return resolved

    def _node_placeholders(self, node: Node, binding: Binding) -> None:
        """Resolve the parameters holding ``exec_property``/``input``/``output`` placeholders into
        ``binding``: those that read outputs are keyed by their text and resolved at launch."""
        given = {name: value for name, value in node.given_parameters.items() if node_placeholders(value)}
        if not given:
            return
        plain = {name: value for name, value in node.parameters.items() if name not in given}
        exec_properties = {**plain, **binding.parameters}
        binding.node_values = NodeValues(node.id, binding.inputs, exec_properties)
        for name, value in given.items():
            if reads_outputs(value):
                binding.late[name] = value
                binding.parameters[name] = substitute(value, lambda placeholder: f"{{{placeholder!r}}}")
            else:
                binding.parameters[name] = _resolved(node, name, value, binding.node_values)

    def skip(self, node: Node, reason: str) -> NodeResult:
        """Record that ``node`` did not run and why, as a CANCELED execution."""
        execution_id = self.store.record_execution(
            execution_type_name(node), "CANCELED", self.contexts, {}, self._properties(node, reason)
        )
        return NodeResult(node.id, SKIPPED, reason, "", execution_id, {}, self.started, time.time())

    # Resolver nodes ----------------------------------------------------------------------------

    def resolve(self, node: Resolver) -> NodeResult:
        """Let the resolver's strategy choose; record the choice (or the failure) and return it."""
        skip_reason = self.false_condition(node)
        if skip_reason:
            return self.skip(node, skip_reason)
        input_dict = {key: list(self.read(channel)) for key, channel in node.inputs.items()}
        try:
            chosen = _checked_choice(node, node.strategy.resolve_artifacts(self.store, input_dict))
        except Exception as error:  # a user strategy may raise anything; the node fails, the run goes on
            reason = f"{node.strategy!r} failed"
            properties = self._properties(node, reason) | {"error": f"{type(error).__name__}: {error}"[:4000]}
            execution_id = self.store.record_execution(execution_type_name(node), "FAILED", self.contexts, {}, properties)
            failure = ComponentFailedError(node.id, self.run_id, execution_id, error)
            failure.__cause__ = error
            trace = "".join(traceback.format_exception(error))[-4000:]
            return NodeResult(node.id, FAILED, reason, "", execution_id, {}, self.started, time.time(), failure, trace)
        reason = _describe_choice(node, chosen)
        properties = self._properties(node, reason)
        execution_id = self.store.record_execution(
            execution_type_name(node), "COMPLETE", self.contexts, event_groups(chosen), properties
        )
        return NodeResult(node.id, RAN, reason, "", execution_id, chosen, self.started, time.time())

    def _properties(self, node: Node, reason: str) -> dict[str, Any]:
        return {
            "node_id": node.id,
            "run_id": self.run_id,
            "pipeline_name": self.pipeline_name,
            "started_at": self.started,
            "finished_at": time.time(),
            "reason": reason,
        }


def _resolved(node: Node, name: str, value: Any, values: NodeValues) -> Any:
    """A parameter value with its node placeholders resolved and its type checked; errors name
    the node, the parameter and the placeholder."""
    where = f"node {node.id!r}, parameter {name!r}"

    def resolve(placeholder: Any) -> Any:
        try:
            return placeholder.resolve(values)
        except PlaceholderError as error:
            raise PlaceholderError(f"{where}: {error}") from error

    resolved = substitute(value, resolve)
    problem = node.definition.spec.parameters[name].problem_with(resolved)
    if problem:
        raise PlaceholderError(f"{where}: {value!r} resolved to an unfit value: {problem}")
    return resolved


def _checked_choice(node: Resolver, result: dict[str, list[Artifact]] | None) -> dict[str, list[Artifact]]:
    """The strategy's answer for every channel key, checked: known keys, right types, and only
    artifacts already recorded in ML Metadata."""
    result = result or {}
    unknown = sorted(set(result) - set(node.inputs))
    if unknown:
        raise ResolutionError(f"{node.strategy!r} answered for {unknown}, but the resolver's channels are {sorted(node.inputs)}")
    chosen = {}
    for key, channel in node.inputs.items():
        chosen[key] = list(result.get(key) or [])
        for artifact in chosen[key]:
            if not isinstance(artifact, channel.type) or artifact.id is None:
                raise ResolutionError(
                    f"{node.strategy!r} chose {artifact!r} for {key!r}; it must choose recorded {channel.type.TYPE_NAME} "
                    "artifacts from those it was given"
                )
    return chosen


def _describe_choice(node: Resolver, chosen: dict[str, list[Artifact]]) -> str:
    if not any(chosen.values()):
        return f"{node.strategy!r} found nothing yet"
    picks = ", ".join(f"{key}=[{', '.join(str(a.id) for a in group)}]" for key, group in chosen.items())
    return f"{node.strategy!r} chose artifact ids {picks}"

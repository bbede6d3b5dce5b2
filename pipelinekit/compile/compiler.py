"""Validate a Pipeline and freeze it into a Plan; every wiring mistake is reported at once."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from pipelinekit.compile.plan import InputWiring, Plan
from pipelinekit.dsl.node import Channel, Node, did_you_mean
from pipelinekit.dsl.node_placeholder import key_problems, node_placeholders
from pipelinekit.dsl.pipeline import Pipeline
from pipelinekit.dsl.placeholder import ArtifactPlaceholder, ChannelPlaceholder, Placeholder
from pipelinekit.dsl.resolver import Resolver
from pipelinekit.dsl.runtime_parameter import RuntimeParameter
from pipelinekit.dsl.spec import type_name
from pipelinekit.errors import CompileError
from pipelinekit.types.annotations import ExternalPath, ModuleFile

__all__ = ["compile_pipeline"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_NODE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
"""Node ids take no '.': it joins pipeline name and node id in ML Metadata's node contexts."""


def compile_pipeline(pipeline: Pipeline, runtime_parameters: Mapping[str, Any] | None = None) -> Plan:
    """Check ``pipeline`` and return its Plan, or raise CompileError listing every problem.
    ``runtime_parameters`` gives the values of its ``RuntimeParameter``s, by name."""
    nodes = pipeline.all_nodes()
    problems = _name_problems(pipeline, nodes)
    for node in nodes:
        problems.extend(_node_problems(node))
    runtime_values = dict(runtime_parameters or {})
    problems.extend(_runtime_parameter_problems(nodes, runtime_values))
    dependencies = _dependencies(nodes)
    layers, cycle_problem = _layers(nodes, dependencies)
    if cycle_problem:
        problems.append(cycle_problem)
    if problems:
        raise CompileError(pipeline.pipeline_name, problems)
    by_id = {node.id: node for node in nodes}
    return Plan(
        pipeline_name=pipeline.pipeline_name,
        pipeline_root=pipeline.pipeline_root,
        metadata=pipeline.metadata,
        enable_cache=pipeline.enable_cache,
        beam_pipeline_args=tuple(pipeline.beam_pipeline_args),
        nodes={node_id: by_id[node_id] for layer in layers for node_id in layer},
        upstream={n.id: tuple(u.id for u in dependencies[id(n)]) for n in nodes},
        wiring={n.id: _wiring(n) for n in nodes},
        layers=layers,
        runtime_parameters=runtime_values,
    )


def _runtime_parameter_problems(nodes: list[Node], values: dict[str, Any]) -> list[str]:
    """Every RuntimeParameter needs a value that fits it (given, or its default), and every
    given value a RuntimeParameter of that name."""
    declared: dict[str, RuntimeParameter] = {}
    problems = []
    for node in nodes:
        for name, value in node.given_parameters.items():
            if not isinstance(value, RuntimeParameter):
                continue
            where = f"node {node.id!r}, parameter {name!r}"
            other = declared.setdefault(value.name, value)
            if other.ptype is not value.ptype:
                problems.append(
                    f"{where}: RuntimeParameter {value.name!r} is declared as both {other.ptype.__name__} and {value.ptype.__name__}"
                )
            resolved = value.value_from(values)
            problem = "no value given and no default" if resolved is None else value.problem_with(resolved)
            problem = problem or node.definition.spec.parameters[name].problem_with(resolved)
            if problem:
                problems.append(
                    f"{where}: {value!r}: {problem}; pass runtime_parameters={{{value.name!r}: ...}} to run() "
                    f"(pipelinekit run: --runtime-parameter {value.name}=VALUE)"
                )
    for name in sorted(set(values) - set(declared)):
        problems.append(f"runtime parameter {name!r} was given but no node uses it (declared: {sorted(declared) or 'none'})")
    return problems


def _dependencies(nodes: list[Node]) -> dict[int, list[Node]]:
    """Each node's upstream nodes (keyed by ``id(node)``): its own ``upstream_nodes``, plus the
    node that a producer-less channel names by ``producer_component_id``, when it is in the pipeline."""
    by_id: dict[str, Node] = {}
    for node in nodes:
        by_id.setdefault(node.id, node)
    found: dict[int, list[Node]] = {}
    for node in nodes:
        upstream = list(node.upstream_nodes)
        for channel in node.dependency_channels():
            named = by_id.get(channel.producer_component_id or "") if channel.producer is None else None
            if named is not None and named not in upstream:
                upstream.append(named)
        found[id(node)] = upstream
    return found


def _name_problems(pipeline: Pipeline, nodes: list[Node]) -> list[str]:
    problems = []
    if not _NAME.match(pipeline.pipeline_name or ""):
        problems.append(
            f"pipeline name {pipeline.pipeline_name!r} must start with a letter or digit and use only A-Z a-z 0-9 _ . -"
        )
    seen: dict[str, Node] = {}
    for node in nodes:
        if isinstance(node.id, str) and "." in node.id:
            problems.append(
                f"node id {node.id!r} contains '.', which ML Metadata's node context name '<pipeline>.<node id>' "
                f"uses as its separator (as TFX does); rename the node, e.g. .with_id({node.id.replace('.', '_')!r})"
            )
        elif not _NODE_ID.match(node.id or ""):
            problems.append(f"node id {node.id!r} must start with a letter or digit and use only A-Z a-z 0-9 _ -")
        if node.id in seen:
            problems.append(
                f"node id {node.id!r} is used by two nodes ({seen[node.id]!r} and {node!r}); "
                f"give each a unique id with .with_id('...')"
            )
        seen.setdefault(node.id, node)
    return problems


def _node_problems(node: Node) -> list[str]:
    spec = node.definition.spec
    where = f"node {node.id!r}"
    problems = [_misplaced(where, node, name) for name in node.misplaced_arguments]
    for name, input_spec in spec.inputs.items():
        value = node.inputs.get(name)
        expected = input_spec.type.TYPE_NAME
        if value is None:
            if not input_spec.optional:
                problems.append(f"{where}: required input {name!r} ({expected}) is not wired")
        elif isinstance(value, Node):
            problems.append(
                f"{where}, input {name!r}: got node {value.id!r}; pass one of its outputs, "
                f"e.g. {value.id}.outputs[{next(iter(value.outputs), 'name')!r}]"
            )
        elif not isinstance(value, Channel):
            problems.append(f"{where}, input {name!r}: expects a channel of {expected}, got {type(value).__name__} {value!r}")
        elif not issubclass(value.type, input_spec.type):
            problems.append(f"{where}, input {name!r}: expects {expected}, got {value.type.TYPE_NAME} from {value!r}")
    for name, parameter in spec.parameters.items():
        problems.extend(_parameter_problems(where, name, parameter, node.given_parameters))
    for name, value in node.given_parameters.items():
        for problem in key_problems(name, value, spec.inputs, spec.outputs, node.parameters):
            problems.append(f"{where}, parameter {name!r}: {problem}")
    if isinstance(node, Resolver):
        problems.extend(node.problems())
    return problems


def _misplaced(where: str, node: Node, name: str) -> str:
    spec = node.definition.spec
    if name in spec.outputs:
        return f"{where}: {name!r} is an output; outputs are created by the node, read it as .outputs[{name!r}]"
    inputs = ", ".join(spec.inputs) or "none"
    parameters = ", ".join(spec.parameters) or "none"
    hint = did_you_mean(name, [*spec.inputs, *spec.parameters])
    return f"{where}: unknown argument {name!r}{hint}; {node.definition.name} takes inputs: {inputs}; parameters: {parameters}"


def _parameter_problems(where: str, name: str, parameter: Any, given: dict[str, Any]) -> list[str]:
    if name not in given:
        return [f"{where}: required parameter {name!r} ({type_name(parameter.type)}) is not set"] if parameter.required else []
    value = given[name]
    if value is None and not parameter.required and parameter.default is None:
        return []
    if isinstance(value, Placeholder):
        return _placeholder_problems(where, name, value)
    if isinstance(value, RuntimeParameter):
        return []  # checked with the run's values by _runtime_parameter_problems
    if node_placeholders(value):
        return []  # keys checked by key_problems, the value's type once it is resolved
    problem = parameter.problem_with(value)
    if not problem and parameter.type is ModuleFile and value and not os.path.isfile(value):
        problem = f"module file {os.path.abspath(value)} does not exist"
    elif not problem and parameter.type is ExternalPath and value and not os.path.exists(value):
        problem = f"path {os.path.abspath(value)} does not exist"
    return [f"{where}, parameter {name!r}: {problem}"] if problem else []


def _placeholder_problems(where: str, name: str, value: Placeholder) -> list[str]:
    """A placeholder parameter must stand for one value; its type is checked once it is resolved."""
    if isinstance(value, (ChannelPlaceholder, ArtifactPlaceholder)):
        return [
            f"{where}, parameter {name!r}: {value!r} stands for artifacts, not a value; "
            "use .future()[0].value, .uri, .property(name) or .custom_property(name)"
        ]
    return []


def _wiring(node: Node) -> dict[str, InputWiring]:
    """Where each input comes from; inputs on producer-less channels are read from ML Metadata."""
    return {
        name: InputWiring(value.producer.id, value.output_key or "")
        for name, value in node.inputs.items()
        if isinstance(value, Channel) and value.producer is not None
    }


def _layers(nodes: list[Node], dependencies: dict[int, list[Node]]) -> tuple[tuple[tuple[str, ...], ...], str | None]:
    """Group nodes by longest path from a source (Kahn's algorithm); report a cycle if one remains."""
    level: dict[int, int] = {}
    remaining = list(nodes)
    while remaining:
        ready = [n for n in remaining if all(id(u) in level for u in dependencies[id(n)])]
        if not ready:
            return (), "cycle between nodes: " + _describe_cycle(remaining, dependencies)
        for node in ready:
            level[id(node)] = 1 + max((level[id(u)] for u in dependencies[id(node)]), default=-1)
        remaining = [n for n in remaining if id(n) not in level]
    depth = max(level.values(), default=-1) + 1
    return tuple(tuple(n.id for n in nodes if level[id(n)] == d) for d in range(depth)), None


def _describe_cycle(stuck: list[Node], dependencies: dict[int, list[Node]]) -> str:
    """Follow upstream links inside ``stuck`` until a node repeats: that loop is the cycle."""
    path = [stuck[0]]
    while True:
        nxt = next(u for u in dependencies[id(path[-1])] if u in stuck)
        if nxt in path:
            loop = path[path.index(nxt) :] + [nxt]
            return " -> ".join(n.id for n in reversed(loop)) + "; remove one of these dependencies"
        path.append(nxt)

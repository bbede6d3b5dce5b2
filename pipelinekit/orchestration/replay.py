"""Replaying one node: its executor called again, outside a run, on the input artifacts one of its
executions recorded in ML Metadata, with fresh outputs in a folder of the caller's. For comparing
runners or settings on the same inputs, and for profiling or debugging a node alone; nothing is
recorded in ML Metadata and the pipeline root is not touched."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pipelinekit.compile.plan import Plan
from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.dsl.node_placeholder import node_placeholders
from pipelinekit.dsl.placeholder import Placeholder
from pipelinekit.dsl.resolver import Resolver
from pipelinekit.dsl.runtime_parameter import RuntimeParameter
from pipelinekit.errors import RunError
from pipelinekit.metadata.store import MetadataStore
from pipelinekit.orchestration.cache import effective_parameters
from pipelinekit.orchestration.executor_loader import call_executor, load_executor
from pipelinekit.types.artifact import Artifact

__all__ = ["Replay", "prepare_replay"]


@dataclass(frozen=True)
class Replay:
    """A node's executor call, ready to run: ``run()`` calls it (timing it is the caller's
    choice), and the output artifacts it writes are in ``outputs``, under the replay's folder."""

    node_id: str
    execution_id: int
    outputs: dict[str, list[Artifact]]
    run: Callable[[], None]


def prepare_replay(
    plan: Plan, node_id: str, folder: str, *, execution_id: int | None = None, beam_args: Sequence[str] | None = None
) -> Replay:
    """Set up a replay of ``node_id`` on the inputs of its execution ``execution_id`` (default:
    its newest complete one), its outputs in fresh subfolders of ``folder``. Beam-using executors
    get ``beam_args`` in place of the pipeline's ``beam_pipeline_args`` when given (to replay a
    Flink run's node on the DirectRunner, say)."""
    node = plan.nodes.get(node_id)
    if node is None:
        raise RunError(f"pipeline {plan.pipeline_name!r} has no node {node_id!r}; its nodes: {', '.join(sorted(plan.nodes))}")
    if isinstance(node, Resolver):
        raise RunError(f"node {node_id!r} is a resolver: it has no executor to replay")
    late = [name for name, value in node.given_parameters.items() if _resolved_at_launch(value)]
    if late:
        raise RunError(
            f"node {node_id!r}: parameters {late} are placeholders or runtime parameters, resolved only in a run; "
            "replay nodes whose parameters are plain values"
        )
    store = MetadataStore(plan.metadata)
    if execution_id is None:
        executions = store.node_executions(plan.pipeline_name, node_id, ("COMPLETE",), limit=1)
        if not executions:
            raise RunError(
                f"node {node_id!r} of pipeline {plan.pipeline_name!r} has no complete execution in "
                f"{plan.metadata.describe()}; run the pipeline first"
            )
        execution_id = executions[0].id
    recorded = store.artifacts_of_execution(execution_id, "INPUT")
    definition = node.definition
    inputs: dict[str, Any] = {  # as the launcher binds them: a list for a multiple input, else one artifact or None
        key: recorded.get(key, []) if spec.multiple else next(iter(recorded.get(key, [])), None)
        for key, spec in definition.spec.inputs.items()
    }
    outputs = {}
    for key, spec in definition.spec.outputs.items():
        outputs[key] = spec.type(os.path.join(folder, key))
        os.makedirs(outputs[key].uri)
    arguments: dict[str, Any] = {**effective_parameters(node), **inputs, **outputs}
    tmp_dir = os.path.join(folder, ".tmp")
    context = ExecutionContext(
        plan.pipeline_name,
        plan.pipeline_root,
        node_id,
        "replay",
        execution_id,
        tmp_dir,
        list(plan.beam_pipeline_args if beam_args is None else beam_args),
    )
    if definition.context_argument:
        os.makedirs(tmp_dir, exist_ok=True)
        arguments[definition.context_argument] = context
    executor = definition.executor if callable(definition.executor) else load_executor(definition.name, definition.executor, {})
    return Replay(
        node_id,
        execution_id,
        {key: [artifact] for key, artifact in outputs.items()},
        functools.partial(call_executor, definition, executor, arguments, context),
    )


def _resolved_at_launch(value: Any) -> bool:
    return isinstance(value, (Placeholder, RuntimeParameter)) or bool(node_placeholders(value))

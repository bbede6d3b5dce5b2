"""One pipeline run as ML Metadata recorded it: its nodes with state, time and reason, the artifacts
each read and wrote, and the DAG those artifacts imply.

Read in a handful of batched MLMD calls (executions of the run context, their events, the artifacts),
so a page stays fast whatever the store's history.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelinekit.errors import MetadataError
from pipelinekit.metadata.store import PIPELINE_RUN, ExecutionRecord, MetadataStore, RunRecord
from pipelinekit.types.artifact import Artifact

__all__ = ["NodeView", "RunView", "read_run", "find_run"]

_MAX_EXECUTIONS = 10_000


@dataclass
class NodeView:
    """A node's execution in this run, with what it read and wrote (by input/output key)."""

    execution: ExecutionRecord
    inputs: dict[str, list[Artifact]] = field(default_factory=dict)
    outputs: dict[str, list[Artifact]] = field(default_factory=dict)

    @property
    def node_id(self) -> str:
        return self.execution.node_id or f"execution-{self.execution.id}"

    @property
    def component(self) -> str:
        return self.execution.type_name

    @property
    def state(self) -> str:
        return self.execution.state

    @property
    def seconds(self) -> float | None:
        started, finished = self.execution.properties.get("started_at"), self.execution.properties.get("finished_at")
        return float(finished) - float(started) if started is not None and finished is not None else None

    @property
    def reason(self) -> str:
        return str(self.execution.properties.get("reason") or self.execution.properties.get("error") or "")


@dataclass
class RunView:
    """A run of one pipeline: its record, its nodes in execution order, and the node-level DAG."""

    pipeline_name: str
    run: RunRecord
    nodes: list[NodeView]

    @property
    def run_id(self) -> str:
        return self.run.run_id

    def node(self, node_id: str) -> NodeView | None:
        return next((n for n in self.nodes if n.node_id == node_id), None)

    def edges(self) -> list[tuple[str, str, str]]:
        """``(upstream node, downstream node, artifact type)`` for each artifact a node of this run
        read from another node of this run (reused cached outputs included)."""
        producers: dict[int, str] = {}
        for node in self.nodes:
            for artifacts in node.outputs.values():
                for artifact in artifacts:
                    producers[artifact.id] = node.node_id  # type: ignore[index]
        edges = set()
        for node in self.nodes:
            for artifacts in node.inputs.values():
                for artifact in artifacts:
                    source = producers.get(artifact.id) or str(artifact.custom_properties.get("producer_node", ""))  # type: ignore[arg-type]
                    if source and source != node.node_id and self.node(source) is not None:
                        edges.add((source, node.node_id, artifact.TYPE_NAME))
        return sorted(edges)

    def artifacts(self, type_name: str) -> list[tuple[NodeView, str, Artifact]]:
        """Every ``type_name`` artifact a node of this run wrote or reused: ``(node, output key, artifact)``."""
        found: list[tuple[NodeView, str, Artifact]] = []
        for node in self.nodes:
            for key, artifacts in node.outputs.items():
                found.extend((node, key, a) for a in artifacts if a.TYPE_NAME == type_name)
        return found


def find_run(store: MetadataStore, run_id: str, pipeline_name: str | None = None) -> tuple[str, RunRecord]:
    """The pipeline and record of ``run_id`` (``latest``: the newest run); searches every pipeline
    in the store unless ``pipeline_name`` is given."""
    names = [pipeline_name] if pipeline_name else store.pipeline_names()
    candidates = [(name, run) for name in names for run in store.runs(name) if run_id in (run.run_id, "latest")]
    if run_id == "latest" and candidates:
        return max(candidates, key=lambda pair: pair[1].context_id)
    if len(candidates) == 1:
        return candidates[0]
    where = store.config.describe()
    if not candidates:
        known = [run.run_id for name in names for run in store.runs(name)[:5]]
        raise MetadataError(f"no run {run_id!r} in {where}; newest runs: {', '.join(known) or 'none (run a pipeline first)'}")
    raise MetadataError(
        f"run {run_id!r} exists in pipelines {[n for n, _ in candidates]} of {where}; choose one with --pipeline-name"
    )


def read_run(store: MetadataStore, pipeline_name: str, run: RunRecord) -> RunView:
    """The run's executions, oldest first, with their input and output artifacts."""
    records = store.executions_in_context(PIPELINE_RUN, run.run_id, limit=_MAX_EXECUTIONS)
    records.sort(key=lambda record: record.id)
    events = store.events(execution_ids=[record.id for record in records]) if records else []
    artifacts = {a.id: a for a in store.artifacts_by_id(sorted({event.artifact_id for event in events}))}
    nodes = {record.id: NodeView(record) for record in records}
    for event in events:  # sorted by execution, direction, key and index
        if event.artifact_id in artifacts:
            side = nodes[event.execution_id].inputs if event.direction == "INPUT" else nodes[event.execution_id].outputs
            side.setdefault(event.key, []).append(artifacts[event.artifact_id])
    return RunView(pipeline_name, run, list(nodes.values()))

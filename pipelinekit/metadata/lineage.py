"""Lineage queries: where an artifact came from, and what used it, read from MLMD events."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelinekit.errors import MetadataError
from pipelinekit.metadata.store import ExecutionRecord, MetadataStore
from pipelinekit.types.artifact import Artifact

__all__ = ["LineageStep", "upstream", "downstream", "render", "latest_output"]


@dataclass
class LineageStep:
    """An artifact and, one hop further, the executions that produced it (upstream) or used it
    (downstream), each with the artifacts on its other side."""

    artifact: Artifact
    executions: list[tuple[ExecutionRecord, dict[str, list[LineageStep]]]] = field(default_factory=list)

    def artifact_ids(self) -> set[int]:
        """Every artifact id in this subtree, this one included."""
        ids = {self.artifact.id} if self.artifact.id is not None else set()
        for _, groups in self.executions:
            for steps in groups.values():
                for step in steps:
                    ids |= step.artifact_ids()
        return ids

    def execution_ids(self) -> set[int]:
        ids: set[int] = set()
        for record, groups in self.executions:
            ids.add(record.id)
            for steps in groups.values():
                for step in steps:
                    ids |= step.execution_ids()
        return ids


def _artifact(store: MetadataStore, artifact_id: int) -> Artifact:
    found = store.artifacts_by_id([artifact_id])
    if not found:
        raise MetadataError(f"no artifact with id {artifact_id} in {store.config.describe()}")
    return found[0]


def upstream(store: MetadataStore, artifact_id: int) -> LineageStep:
    """The chain back to the raw inputs: the execution that wrote the artifact (the original run,
    not later cache hits), its inputs, and so on. Shared ancestors appear once, as one object."""
    return _walk(store, artifact_id, "OUTPUT", "INPUT", {})


def downstream(store: MetadataStore, artifact_id: int) -> LineageStep:
    """Every execution that read the artifact and produced something new (cache hits only reuse
    outputs, so they are left out), what those executions wrote, and so on."""
    return _walk(store, artifact_id, "INPUT", "OUTPUT", {})


def _walk(store: MetadataStore, artifact_id: int, towards: str, across: str, seen: dict[int, LineageStep]) -> LineageStep:
    if artifact_id in seen:
        return seen[artifact_id]
    step = seen[artifact_id] = LineageStep(_artifact(store, artifact_id))
    if towards == "OUTPUT":  # the original producer; the first of any state only if none completed
        chosen = _linked(store, artifact_id, towards, complete_only=True, limit=1) or _linked(
            store, artifact_id, towards, complete_only=False, limit=1
        )
    else:
        chosen = _linked(store, artifact_id, towards, complete_only=True, limit=None)
    for record in chosen:
        groups = store.artifacts_of_execution(record.id, across)
        walked = {key: [_walk(store, a.id, towards, across, seen) for a in group] for key, group in groups.items()}  # type: ignore[arg-type]
        step.executions.append((record, walked))
    return step


def _linked(store: MetadataStore, artifact_id: int, event: str, complete_only: bool, limit: int | None) -> list[ExecutionRecord]:
    """Executions with an ``event`` (INPUT or OUTPUT) on the artifact, oldest first. MLMD filters
    them (by the artifact's events and the state), so the CACHED executions that every cached
    rerun adds are never read: the cost does not grow with the number of past runs."""
    from ml_metadata import errors as mlmd_errors
    from ml_metadata.metadata_store import metadata_store

    clauses = [f"events_0.artifact_id = {int(artifact_id)}", f"events_0.type = {event}"]
    if complete_only:
        clauses.append("last_known_state = COMPLETE")
    options = metadata_store.ListOptions(
        filter_query=" AND ".join(clauses), order_by=metadata_store.OrderByField.ID, is_asc=True, limit=limit
    )
    try:
        found = store.raw.get_executions(list_options=options)
    except mlmd_errors.StatusError as error:
        raise MetadataError(f"ML Metadata store {store.config.describe()}: lineage of artifact {artifact_id}: {error}") from error
    ids = sorted({execution.id for execution in found})  # an artifact read under two keys is one execution
    return sorted(store.executions_by_id(ids), key=lambda record: record.id) if ids else []


def render(step: LineageStep, direction: str = "upstream") -> str:
    """The lineage tree as indented text, one artifact or execution a line; an artifact reached
    twice is expanded the first time only."""
    verb = "produced by" if direction == "upstream" else "read by"
    lines: list[str] = []
    _render(step, verb, "", lines, "", set())
    return "\n".join(lines)


def _render(step: LineageStep, verb: str, indent: str, lines: list[str], label: str, shown: set[int]) -> None:
    a = step.artifact
    if a.id in shown:
        lines.append(f"{indent}{label}{a.TYPE_NAME} #{a.id} (see above)")
        return
    shown.add(a.id)  # type: ignore[arg-type]
    lines.append(f"{indent}{label}{a.TYPE_NAME} #{a.id} {a.uri}")
    for record, groups in step.executions:
        lines.append(
            f"{indent}  {verb} {record.component_name} execution #{record.id} "
            f"(node {record.node_id}, run {record.properties.get('run_id', '?')}, {record.state})"
        )
        for key, steps in groups.items():
            for child in steps:
                _render(child, verb, indent + "    ", lines, f"{key}: ", shown)


def latest_output(store: MetadataStore, pipeline_name: str, node_id: str, output_key: str) -> Artifact:
    """The artifact a node most recently published (or reused) under ``output_key``."""
    for record in store.node_executions(pipeline_name, node_id, ("COMPLETE", "CACHED"), limit=1):
        outputs = store.artifacts_of_execution(record.id, "OUTPUT")
        if outputs.get(output_key):
            return outputs[output_key][0]
    raise MetadataError(
        f"no published output {output_key!r} of node {node_id!r} in pipeline {pipeline_name!r}; run the pipeline first"
    )

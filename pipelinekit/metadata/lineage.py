"""Lineage queries: where an artifact came from, and what used it, read from MLMD events."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelinekit.errors import MetadataError
from pipelinekit.metadata.store import ExecutionRecord, MetadataStore
from pipelinekit.types.artifact import Artifact

__all__ = ["LineageStep", "upstream", "downstream", "render"]


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
    not later cache hits), its inputs, and so on."""
    step = LineageStep(_artifact(store, artifact_id))
    producers = store.executions_by_id([e for kind, e in store.events_of_artifact(artifact_id) if kind == "OUTPUT"])
    writers = [r for r in producers if r.state == "COMPLETE"] or producers
    for record in sorted(writers, key=lambda r: r.id)[:1]:
        inputs = store.artifacts_of_execution(record.id, "INPUT")
        step.executions.append((record, {k: [upstream(store, a.id) for a in group] for k, group in inputs.items()}))  # type: ignore[arg-type]
    return step


def downstream(store: MetadataStore, artifact_id: int) -> LineageStep:
    """Everything that read the artifact, what those executions wrote, and so on."""
    step = LineageStep(_artifact(store, artifact_id))
    consumers = store.executions_by_id(sorted({e for kind, e in store.events_of_artifact(artifact_id) if kind == "INPUT"}))
    for record in consumers:
        outputs = store.artifacts_of_execution(record.id, "OUTPUT")
        step.executions.append((record, {k: [downstream(store, a.id) for a in group] for k, group in outputs.items()}))  # type: ignore[arg-type]
    return step


def render(step: LineageStep, direction: str = "upstream") -> str:
    """The lineage tree as indented text, one artifact or execution a line."""
    verb = "produced by" if direction == "upstream" else "read by"
    lines: list[str] = []
    _render(step, verb, "", lines, label="")
    return "\n".join(lines)


def _render(step: LineageStep, verb: str, indent: str, lines: list[str], label: str) -> None:
    a = step.artifact
    lines.append(f"{indent}{label}{a.TYPE_NAME} #{a.id} {a.uri}")
    for record, groups in step.executions:
        lines.append(
            f"{indent}  {verb} {record.type_name} execution #{record.id} "
            f"(node {record.node_id}, run {record.properties.get('run_id', '?')}, {record.state})"
        )
        for key, steps in groups.items():
            for child in steps:
                _render(child, verb, indent + "    ", lines, label=f"{key}: ")

"""What a run reports: per node ran, cached, failed or skipped, with reasons and outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipelinekit.errors import ComponentFailedError, RunError
from pipelinekit.types.artifact import Artifact

__all__ = ["NodeResult", "RunResult", "RAN", "CACHED", "FAILED", "SKIPPED"]

RAN, CACHED, FAILED, SKIPPED = "ran", "cached", "failed", "skipped"


@dataclass
class NodeResult:
    """The outcome of one node in one run. ``reason`` says why it ran, was cached or was skipped."""

    node_id: str
    status: str
    reason: str = ""
    cache_key: str = ""
    execution_id: int | None = None
    outputs: dict[str, list[Artifact]] = field(default_factory=dict)
    started_at: float = 0.0
    finished_at: float = 0.0
    error: ComponentFailedError | None = None
    user_traceback: str = ""

    @property
    def duration(self) -> float:
        return max(0.0, self.finished_at - self.started_at)

    @property
    def ok(self) -> bool:
        return self.status in (RAN, CACHED)


@dataclass
class RunResult:
    """The outcome of a pipeline run; ``nodes`` is in execution order."""

    pipeline_name: str
    run_id: str
    nodes: dict[str, NodeResult]
    started_at: float
    finished_at: float

    @property
    def succeeded(self) -> bool:
        """No node failed. Skipped nodes do not count against a run: a node is skipped because an
        upstream node failed (that one counts), a ``Cond`` was false, or a resolver found nothing."""
        return not self.nodes_with(FAILED)

    @property
    def status(self) -> str:
        return "COMPLETE" if self.succeeded else "FAILED"

    @property
    def duration(self) -> float:
        return self.finished_at - self.started_at

    def nodes_with(self, status: str) -> list[str]:
        return [node_id for node_id, result in self.nodes.items() if result.status == status]

    def output(self, node_id: str, key: str) -> Artifact:
        """The single artifact ``node_id`` published (or reused, or resolved) under ``key`` in this run."""
        artifacts = self.artifacts(node_id, key)
        if not artifacts:
            raise RunError(f"node {node_id!r} has no {key!r} artifact in run {self.run_id} ({self.nodes[node_id].reason})")
        return artifacts[0]

    def artifacts(self, node_id: str, key: str) -> list[Artifact]:
        """Every artifact ``node_id`` gave under ``key`` in this run (a Resolver may give none or several)."""
        result = self.nodes[node_id]
        if not result.ok:
            raise RunError(f"node {node_id!r} did not succeed in run {self.run_id} ({result.status}: {result.reason})")
        return list(result.outputs[key])

    def raise_for_failure(self) -> None:
        """Raise the first node failure, naming the nodes to look at; do nothing if all succeeded."""
        failed = self.nodes_with(FAILED)
        if not failed:
            return
        first = self.nodes[failed[0]]
        skipped = [n for n in self.nodes_with(SKIPPED) if self.nodes[n].reason.endswith(" failed")]
        tail = f"; skipped because of it: {', '.join(skipped)}" if skipped else ""
        raise RunError(
            f"run {self.run_id} of {self.pipeline_name!r}: {first.error}{tail}. Fix it and run again: finished nodes are cached"
        ) from first.error

    def summary(self) -> dict[str, Any]:
        """Counts per status, for logs and the CLI."""
        counts: dict[str, Any] = {s: len(self.nodes_with(s)) for s in (RAN, CACHED, FAILED, SKIPPED)}
        counts["duration_s"] = round(self.duration, 3)
        return counts

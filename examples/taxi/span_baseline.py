"""A resolver strategy that finds the statistics of the span before the one being validated."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelinekit import Artifact
from pipelinekit.dsl.resolver import ArtifactsByKey, ResolverStrategy, span_of

__all__ = ["PreviousSpanStrategy"]


class PreviousSpanStrategy(ResolverStrategy):
    """Given ``current`` (this run's artifact) and ``history`` (every artifact of that kind in
    ML Metadata), keep ``current`` and pick from ``history`` the newest artifact of the highest
    span below the current one; ``history`` is empty when there is no earlier span (the first
    run). Rerunning a span therefore still compares it with the span before it, never with
    itself."""

    def channel_problems(self, channel_types: Mapping[str, type[Artifact]]) -> list[str]:
        if set(channel_types) != {"current", "history"}:
            return [
                f"PreviousSpanStrategy takes the channels current= and history=, got {', '.join(sorted(channel_types)) or 'none'}"
            ]
        if channel_types["current"] is not channel_types["history"]:
            return ["PreviousSpanStrategy: current= and history= must carry the same artifact type"]
        return []

    def resolve_artifacts(self, store: Any, input_dict: ArtifactsByKey) -> ArtifactsByKey | None:
        current, history = input_dict.get("current", []), input_dict.get("history", [])
        if not current:
            return {"current": [], "history": []}
        span = span_of(current[0])
        earlier = [a for a in history if span_of(a) < span]
        best = max(earlier, key=lambda a: (span_of(a), a.id or 0), default=None)
        return {"current": current[:1], "history": [best] if best is not None else []}

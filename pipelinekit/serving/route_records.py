"""Route changes in ML Metadata: one ``RouteChange`` execution per change, in the route's ``Route`` context.

Each execution says who (the admin user, ``protection`` or ``route file``), when (UTC, ISO 8601),
what (the action and its details) and the route as it stood after the change.

Under ``serve --num_workers N`` every worker records into the one store (SQLite takes concurrent
writers): each worker its own protection changes, as ``protection (worker <i>)`` (each worker
judges the calls it served), and worker 0 alone the changes every worker applies alike (route
file loads), so that each is recorded once.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from pipelinekit.metadata import ExecutionRecord, MetadataStore, sqlite_metadata

__all__ = ["CONTEXT_TYPE", "EXECUTION_TYPE", "RouteChangeRecorder"]

CONTEXT_TYPE = "Route"
EXECUTION_TYPE = "RouteChange"
PROTECTION_ACTIONS = frozenset({"protect", "readmit"})  # made by one worker's protection, for itself


class RouteChangeRecorder:
    """Records route changes in the SQLite MLMD store at ``path``; callable as a ChangeRecorder."""

    def __init__(self, path: str, worker: int | None = None) -> None:
        self.store = MetadataStore(sqlite_metadata(path))
        self._worker = worker

    def __call__(self, route: str, action: str, details: dict[str, Any], who: str) -> None:
        if self._worker is not None:
            if action in PROTECTION_ACTIONS:
                who = f"{who} (worker {self._worker})"
            elif self._worker != 0:
                return  # every worker applies it: worker 0 records it
        context = self.store.context(CONTEXT_TYPE, route)
        properties = {
            "who": who,
            "action": action,
            "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
            "details": json.dumps(details, sort_keys=True),
        }
        self.store.record_execution(EXECUTION_TYPE, "COMPLETE", [context], {}, properties)

    def changes(self, route: str, limit: int = 100) -> list[ExecutionRecord]:
        """The newest ``limit`` changes of ``route``, newest first."""
        return self.store.executions_in_context(CONTEXT_TYPE, route, limit=limit)

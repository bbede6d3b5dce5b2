"""Route changes in ML Metadata: one ``RouteChange`` execution per change, in the route's ``Route`` context.

Each execution says who (the admin user, ``protection`` or ``route file``), when (UTC, ISO 8601),
what (the action and its details) and the route as it stood after the change.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from pipelinekit.dsl.metadata_config import sqlite_metadata
from pipelinekit.metadata.store import ExecutionRecord, MetadataStore

__all__ = ["CONTEXT_TYPE", "EXECUTION_TYPE", "RouteChangeRecorder"]

CONTEXT_TYPE = "Route"
EXECUTION_TYPE = "RouteChange"


class RouteChangeRecorder:
    """Records route changes in the SQLite MLMD store at ``path``; callable as a ChangeRecorder."""

    def __init__(self, path: str) -> None:
        self.store = MetadataStore(sqlite_metadata(path))

    def __call__(self, route: str, action: str, details: dict[str, Any], who: str) -> None:
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

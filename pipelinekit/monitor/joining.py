"""Labels joined to logged requests by request id, once each.

Requests wait for their label in the checkpoint for ``window_s`` after they were answered. A label
joins the request of its id (first label wins; a second one for an id, in the same file or later,
is a duplicate). A label whose request is not (yet) known is unmatched; it is kept and tried
again in later windows for ``window_s`` (its request's log file may not be complete yet), then dropped.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from typing import Any

from pipelinekit.monitor.labels import Label
from pipelinekit.monitor.logs import LoggedRow
from pipelinekit.monitor.state import MonitorState

__all__ = ["Joined", "join_labels"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Joined:
    pairs: list[tuple[LoggedRow, Any]]
    counts: dict[str, int]


def join_labels(state: MonitorState, rows: list[LoggedRow], labels: list[Label], window_s: float,
                updates: list[tuple[str, tuple[Any, ...]]]) -> Joined:  # fmt: skip
    """Join ``labels`` (new ones, then the still unmatched ones) to ``rows`` and the waiting requests;
    the checkpoint changes are appended to ``updates`` (committed with the window)."""
    now = time.time()
    current = {row.request_id: row for row in rows}
    for logged in rows:
        updates.append(("INSERT OR IGNORE INTO pending VALUES (?, ?, ?, ?, ?, 0)",
                        (logged.request_id, logged.version, logged.timestamp, logged.example, json.dumps(logged.prediction))))  # fmt: skip
    orphans = [
        Label(rid, json.loads(value), 0)
        for rid, value, since in state.db.execute("SELECT * FROM orphans")
        if now - since <= window_s
    ]
    pairs: list[tuple[LoggedRow, Any]] = []
    seen: set[str] = set()
    unmatched: list[str] = []
    duplicates = 0
    for label in [*labels, *orphans]:
        if label.request_id in seen:
            duplicates += 1
            continue
        seen.add(label.request_id)
        row: LoggedRow | None = current.get(label.request_id)
        labeled = False
        if row is None:
            row, labeled = _waiting(state, label.request_id)
        if labeled:
            duplicates += 1
        elif row is None:
            unmatched.append(label.request_id)
            updates.append(("INSERT OR IGNORE INTO orphans VALUES (?, ?, ?)", (label.request_id, json.dumps(label.value), now)))
        else:
            pairs.append((row, label.value))
            updates.append(("UPDATE pending SET labeled = 1 WHERE request_id = ?", (label.request_id,)))
            updates.append(("DELETE FROM orphans WHERE request_id = ?", (label.request_id,)))
    newest = max((row.timestamp for row in rows), default=now)
    updates.append(("DELETE FROM pending WHERE ts < ?", (newest - window_s,)))
    updates.append(("DELETE FROM orphans WHERE since < ?", (now - window_s,)))
    if unmatched:
        logger.warning("labels: %d ids match no logged request (yet), e.g. %s", len(unmatched), unmatched[:5])
    return Joined(pairs, {"joined": len(pairs), "duplicates": duplicates, "unmatched": len(unmatched)})


def _waiting(state: MonitorState, request_id: str) -> tuple[LoggedRow | None, bool]:
    """The waiting request of this id, and whether it already has its label."""
    found = state.db.execute("SELECT * FROM pending WHERE request_id = ?", (request_id,)).fetchone()
    if found is None:
        return None, False
    rid, version, ts, example, prediction, labeled = found
    return LoggedRow(rid, version, ts, bytes(example), json.loads(prediction)), bool(labeled)

"""ReadyQueue: hands a DAG's nodes to parallel workers as soon as their own upstream nodes are done.

Scheduling by node rather than by layer means a fast branch never waits for a slow node that
merely sits at the same depth; any free worker takes the next ready node.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping, Sequence

__all__ = ["ReadyQueue"]


class ReadyQueue:
    """The nodes of one run still to settle, released in dependency order to whichever worker asks.

    ``upstream`` maps every node to the nodes it reads from; upstream nodes that are not in
    ``node_ids`` count as already settled (for example, reused from the cache). Thread-safe.
    """

    def __init__(self, upstream: Mapping[str, Sequence[str]], node_ids: Sequence[str]) -> None:
        pending = set(node_ids)
        self._waiting = {node: {u for u in upstream[node] if u in pending} for node in node_ids}
        self._downstream: dict[str, list[str]] = {node: [] for node in node_ids}
        for node, ups in self._waiting.items():
            for up in ups:
                self._downstream[up].append(node)
        self._ready = deque(node for node in node_ids if not self._waiting[node])
        self.max_concurrency = _max_concurrency(list(self._ready), self._waiting, self._downstream)
        self._unassigned = len(node_ids)
        self._closed = False
        self._condition = threading.Condition()
        self.error: BaseException | None = None

    def take(self) -> str | None:
        """The next node whose upstream nodes are all done, waiting for one if need be; ``None``
        once every node has been handed out or the queue was closed."""
        with self._condition:
            self._condition.wait_for(lambda: self._ready or not self._unassigned or self._closed)
            if self._closed or not self._ready:
                return None
            self._unassigned -= 1
            return self._ready.popleft()

    def done(self, node_id: str) -> None:
        """Mark a handed-out node as settled, releasing the nodes that only waited for it."""
        with self._condition:
            for node in self._downstream[node_id]:
                self._waiting[node].discard(node_id)
                if not self._waiting[node]:
                    self._ready.append(node)
            self._condition.notify_all()


    def close(self, error: BaseException | None = None) -> None:
        """Hand out nothing more (the run is stopping); keeps the first ``error`` a worker reports."""
        with self._condition:
            self._closed = True
            if error is not None and self.error is None:
                self.error = error
            self._condition.notify_all()


def _max_concurrency(sources: list[str], waiting: dict[str, set[str]], downstream: dict[str, list[str]]) -> int:
    """An upper bound on how many nodes can ever run at once: all but the longest dependency chain,
    plus one (nodes that run together never depend on each other, so at most one of them lies on
    that chain). Exact for a chain and for a fan-out; cheap enough for any pipeline."""
    depth = dict.fromkeys(sources, 1)
    unmet = {node: len(ups) for node, ups in waiting.items()}
    order = list(sources)
    for node in order:  # topological order; the list grows while it is walked
        for down in downstream[node]:
            depth[down] = max(depth.get(down, 0), depth[node] + 1)
            unmet[down] -= 1
            if not unmet[down]:
                order.append(down)
    return len(waiting) - max(depth.values(), default=0) + 1

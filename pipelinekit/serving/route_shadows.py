"""Shadows: a copy of each routed request after its answer is returned, on a bounded queue off the
request path; the shadow's answer is compared with the one returned, and disagreements counted."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from pipelinekit.serving.metrics import RouteMetrics
from pipelinekit.serving.route_table import target_spec
from pipelinekit.serving.routes import Route, Target

__all__ = ["ShadowQueue"]

logger = logging.getLogger(__name__)

_SHADOW_QUEUE = 256
_SHADOW_THREADS = 2


class ShadowQueue:
    """Two worker threads serving a queue of 256 shadow calls; a full queue drops the copy (counted)."""

    def __init__(self, metrics: RouteMetrics) -> None:
        self._metrics = metrics
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue(_SHADOW_QUEUE)
        self._threads = [
            threading.Thread(target=self._loop, name=f"pipelinekit-shadow-{i}", daemon=True) for i in range(_SHADOW_THREADS)
        ]
        for thread in self._threads:
            thread.start()

    def send(self, route: Route, shadow: Target, signature_name: str, run: Callable, same: Callable, answer: Any) -> None:
        """Queue a call of ``shadow``, whose answer is compared with ``answer`` by ``same``."""

        def compare() -> None:
            try:
                shadow_answer = run(target_spec(shadow, signature_name))
            except Exception as exc:  # noqa: BLE001 - a failing shadow is counted and logged, never raised
                self._metrics.shadow(route.name, shadow.key, "error")
                logger.info("route %r: shadow %s failed: %s", route.name, shadow.key, exc)
                return
            agrees = same(answer, shadow_answer)
            self._metrics.shadow(route.name, shadow.key, "agree" if agrees else "disagree")
            if not agrees:
                logger.info("route %r: shadow %s disagrees with the answer returned", route.name, shadow.key)

        try:
            self._queue.put_nowait(compare)
        except queue.Full:
            self._metrics.shadow(route.name, shadow.key, "dropped")

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            job()

    def close(self) -> None:
        """Stop the workers once the calls queued so far are done."""
        for _ in self._threads:
            self._queue.put(None)

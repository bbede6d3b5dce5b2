"""Calls a route's targets: one alone, or the pick and its fallbacks raced against a deadline.

In a race each target runs on its own thread pool (so a slow target cannot starve the others);
the first answer from the most preferred target still able to answer wins as soon as it is known,
the deadline ends the wait for better ones, and after it the first answer that arrives wins.
Answers that come after the winner are logged and counted as late.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import threading
import time
from collections.abc import Callable, Hashable
from concurrent import futures
from typing import TypeVar

from pipelinekit.serving.errors import StatusError
from pipelinekit.serving.metrics import RouteMetrics
from pipelinekit.serving.routes import Route, Target

__all__ = ["Dispatcher", "Observer"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
# Told of every target call: (route, target, status code, seconds, the request's kind).
Observer = Callable[[Route, Target, str, float, Hashable], None]

_TARGET_THREADS = 8


class Dispatcher:
    """Runs target calls, timing each for ``observe``; owns the per-target thread pools."""

    def __init__(self, metrics: RouteMetrics, observe: Observer) -> None:
        self._metrics = metrics
        self._observe = observe
        self._pools: dict[str, futures.ThreadPoolExecutor] = {}
        self._lock = threading.Lock()

    def answer(self, route: Route, candidates: list[Target], run: Callable[[Target], T], kind: Hashable) -> tuple[Target, T]:
        """The target that answered and its answer: the first candidate alone, or all of them raced.
        ``run`` calls one target; ``kind`` is the request's, for the observer."""
        if route.deadline_ms is None or len(candidates) == 1:
            return candidates[0], self._timed(route, candidates[0], run, kind)
        return self._race(route, candidates, run, kind)

    def _timed(self, route: Route, target: Target, run: Callable[[Target], T], kind: Hashable) -> T:
        start = time.perf_counter()
        code = "OK"
        try:
            return run(target)
        except StatusError as exc:
            code = exc.code
            raise
        except Exception:
            code = "INTERNAL"
            raise
        finally:
            self._observe(route, target, code, time.perf_counter() - start, kind)

    def _race(self, route: Route, candidates: list[Target], run: Callable[[Target], T], kind: Hashable) -> tuple[Target, T]:
        context = contextvars.copy_context()
        calls = [self._pool(t).submit(context.copy().run, self._timed, route, t, run, kind) for t in candidates]
        assert route.deadline_ms is not None
        deadline = time.monotonic() + route.deadline_ms / 1000
        try:
            while True:
                in_time = time.monotonic() < deadline
                for index, call in enumerate(calls):  # in order of preference
                    if call.done() and call.exception() is None:
                        return candidates[index], call.result()
                    if in_time and not call.done():
                        break  # a more preferred target may still answer before the deadline
                pending = [c for c in calls if not c.done()]
                if not pending:
                    error = calls[0].exception()  # every target failed: the preferred one's error says why
                    assert error is not None
                    raise error
                futures.wait(
                    pending, timeout=deadline - time.monotonic() if in_time else None, return_when=futures.FIRST_COMPLETED
                )
        finally:
            for target, call in zip(candidates, calls):
                if not call.done() and not call.cancel():
                    call.add_done_callback(functools.partial(self._late, route, target))

    def _late(self, route: Route, target: Target, call: futures.Future) -> None:
        self._metrics.late(route.name, target.key)
        logger.info(
            "route %r: late answer from %s (%s)", route.name, target.key, "ok" if call.exception() is None else call.exception()
        )

    def _pool(self, target: Target) -> futures.ThreadPoolExecutor:
        pool = self._pools.get(target.key)
        if pool is None:
            with self._lock:
                pool = self._pools.setdefault(
                    target.key,
                    futures.ThreadPoolExecutor(_TARGET_THREADS, thread_name_prefix=f"pipelinekit-route-{target.key}"),
                )
        return pool

    def close(self) -> None:
        """Stop the target pools (running calls finish, queued ones are cancelled)."""
        for pool in list(self._pools.values()):
            pool.shutdown(wait=False, cancel_futures=True)

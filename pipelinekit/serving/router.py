"""The rendezvous: a request to a route goes to the split's pick, its fallbacks and its shadows.

- The split picks one target by weight; a request key (gRPC metadata or REST header
  ``x-route-key``) hashes to the same pick every time while the weights stay.
- With fallbacks, the pick and every fallback run at once, each on its own thread pool (so a slow
  target cannot starve the others); the first answer from the most preferred target still able to
  answer wins as soon as it is known, the deadline ends the wait for better ones, and after it the
  first answer that arrives wins. Answers that come after the winner are logged and counted as late.
- Shadows get a copy after the answer is returned, on a bounded queue off the request path; their
  answers are compared with the one returned, and disagreements counted.
- Protection: a target whose error rate or p99 over the route's window crosses a limit is switched
  off in the route (as ``disable`` would), with a log line, a metric and a recorded change, unless
  it is the route's last target able to answer (then it stays, counted as ``kept_last``). After
  ``window_s`` it is switched back on (half-open): if it still fails, it trips again.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import hashlib
import logging
import queue
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent import futures
from typing import Any, TypeVar

from tensorflow_serving.apis import model_pb2

from pipelinekit.serving.errors import StatusError
from pipelinekit.serving.metrics import RouteMetrics
from pipelinekit.serving.routes import Route, RouteConfigError, Target

__all__ = [
    "ROUTE_KEY_HEADER",
    "ChangeRecorder",
    "RouteUnavailableError",
    "Router",
    "describe_route",
    "route_key",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The request key for sticky splits: gRPC metadata key and REST header (case-insensitive there).
ROUTE_KEY_HEADER = "x-route-key"
route_key: contextvars.ContextVar[str | None] = contextvars.ContextVar("route_key", default=None)

# Called with (route, action, details, who) after each change to the routes in force.
ChangeRecorder = Callable[[str, str, dict[str, Any], str], None]

_TARGET_THREADS = 8
_SHADOW_QUEUE = 256
_CHECK_EVERY_S = 0.1


class RouteUnavailableError(StatusError):
    """Every target of a route is switched off or failed."""

    code = "UNAVAILABLE"


class Router:
    """The routes in force (swapped whole, copy-on-write) and the calls through them."""

    def __init__(
        self, serves: Callable[[str], bool], metrics: RouteMetrics, record: ChangeRecorder | None = None
    ) -> None:
        self._serves = serves
        self._metrics = metrics
        self._record = record
        self._routes: dict[str, Route] = {}
        self._history: dict[str, list[Route]] = {}
        self._lock = threading.Lock()
        self._pools: dict[str, futures.ThreadPoolExecutor] = {}
        self._windows: dict[tuple[str, str], _Window] = {}
        self._readmit: dict[tuple[str, str], float] = {}  # (route, target) tripped -> when to switch it back on
        self._kept_logged: dict[tuple[str, str], float] = {}  # (route, target) -> last "kept the last target" log
        self._records = futures.ThreadPoolExecutor(1, thread_name_prefix="pipelinekit-route-records")
        self._shadow_queue: queue.Queue[Callable[[], None] | None] = queue.Queue(_SHADOW_QUEUE)
        self._shadow_threads = [
            threading.Thread(target=self._shadow_loop, name=f"pipelinekit-shadow-{i}", daemon=True) for i in range(2)
        ]
        for thread in self._shadow_threads:
            thread.start()

    # -- the routes in force ------------------------------------------------------------------

    def is_route(self, name: str) -> bool:
        return name in self._routes

    @property
    def routes(self) -> dict[str, Route]:
        return self._routes

    def set_routes(self, routes: dict[str, Route], who: str = "route file") -> None:
        """Put a whole new set of routes in force, or raise and keep the old ones."""
        problems = [p for route in routes.values() for p in self._problems(route)]
        if problems:
            raise RouteConfigError(f"routes not applied ({len(problems)} problem(s)): " + "; ".join(problems))
        with self._lock:
            old, self._routes = self._routes, dict(routes)
            self._history = {  # a changed route can be rolled back to what was in force before
                name: [*self._history.get(name, []), *([old[name]] if name in old and old[name] != route else [])][-20:]
                for name, route in routes.items()
            }
            self._windows = {k: w for k, w in self._windows.items() if k[0] in routes}
            self._readmit = {k: t for k, t in self._readmit.items() if k[0] in routes and old.get(k[0]) == routes[k[0]]}
        if set(old) != set(routes) or any(old.get(n) != r for n, r in routes.items()):
            logger.info("routes in force: %s", sorted(routes))
            for name in sorted(set(routes) | set(old)):
                if old.get(name) != routes.get(name):
                    self._recorded(name, "load", {"route": describe_route(routes.get(name))}, who)

    def change(self, name: str, action: str, update: Callable[[Route], Route], who: str, details: dict[str, Any]) -> Route:
        """Apply one change to one route (kept for rollback) and record it; the new route.

        A person's change takes over from protection: its pending re-admissions in the route are dropped.
        """
        return self._change(name, action, update, who, details, by_protection=False)

    def _change(
        self,
        name: str,
        action: str,
        update: Callable[[Route], Route],
        who: str,
        details: dict[str, Any],
        by_protection: bool,
    ) -> Route:
        with self._lock:
            route = self._route(name)
            new = update(route)
            problems = self._problems(new)
            if problems:
                raise RouteConfigError(f"route {name!r}: {action} not applied: " + "; ".join(problems))
            self._history[name] = [*self._history.get(name, []), route][-20:]
            self._routes = {**self._routes, name: new}
            if not by_protection:
                self._readmit = {k: t for k, t in self._readmit.items() if k[0] != name}
        logger.warning("route %r: %s by %s: %s", name, action, who, details)
        self._recorded(name, action, {**details, "route": describe_route(new)}, who)
        return new

    def rollback(self, name: str, who: str) -> Route:
        """Put back the route as it was before its last change."""
        with self._lock:
            self._route(name)
            history = self._history.get(name) or []
            if not history:
                raise RouteConfigError(f"route {name!r} has no earlier state to roll back to")
            previous = history.pop()
            self._routes = {**self._routes, name: previous}
            self._readmit = {k: t for k, t in self._readmit.items() if k[0] != name}
        logger.warning("route %r: rolled back by %s", name, who)
        self._recorded(name, "rollback", {"route": describe_route(previous)}, who)
        return previous

    def _route(self, name: str) -> Route:
        route = self._routes.get(name)
        if route is None:
            raise RouteConfigError(f"no route named {name!r}; routes: {sorted(self._routes)}", code="NOT_FOUND")
        return route

    def _problems(self, route: Route) -> list[str]:
        problems = []
        if self._serves(route.name):
            problems.append(f"route {route.name!r} has the name of a served model; rename the route")
        for target in (*route.split, *route.shadows, *route.fallbacks):
            if not self._serves(target.model):
                problems.append(
                    f"route {route.name!r}: target {target.key!r} names no served model; add it to the model "
                    "config or fix the name"
                )
        return problems

    def _recorded(self, name: str, action: str, details: dict[str, Any], who: str) -> None:
        """Record a change on the one recording thread, in order, off the request path."""
        if self._record is not None:
            self._records.submit(self._write_record, self._record, name, action, details, who)

    @staticmethod
    def _write_record(record: ChangeRecorder, name: str, action: str, details: dict[str, Any], who: str) -> None:
        try:
            record(name, action, details, who)
        except Exception:  # a metadata store outage must not undo or block a route change
            logger.exception("route %r: could not record the %s in ML Metadata", name, action)

    def flush_records(self) -> None:
        """Wait until every change so far is recorded."""
        self._records.submit(lambda: None).result()

    # -- requests -------------------------------------------------------------------------------

    def primary(self, name: str) -> model_pb2.ModelSpec:
        """The spec of the target a request to route ``name`` would go to first (for signatures)."""
        route = self._route(name)
        return _spec(self._candidates(route)[0], "")

    def call(
        self,
        name: str,
        signature_name: str,
        run: Callable[[model_pb2.ModelSpec], T],
        same: Callable[[T, T], bool],
    ) -> T:
        """Answer one request to route ``name``: ``run`` calls a target; ``same`` compares answers."""
        route = self._route(name)
        if self._readmit:
            route = self._readmit_due(route)
        candidates = self._candidates(route)
        if route.deadline_ms is None or len(candidates) == 1:
            answer = self._timed(route, candidates[0], signature_name, run)
            winner = candidates[0]
        else:
            winner, answer = self._race(route, candidates, signature_name, run)
        if winner is not candidates[0] or winner.key not in {t.key for t in route.split}:
            self._metrics.fallback(route.name, winner.key)
        for shadow in route.shadows:
            if shadow.key not in route.disabled:
                self._shadow(route, shadow, signature_name, run, same, answer)
        return answer

    def _candidates(self, route: Route) -> list[Target]:
        """The split's pick, then the fallbacks, without switched-off targets."""
        active = [t for t in route.split if t.key not in route.disabled and t.weight > 0]
        pick = [_pick(route.name, active)] if active else []
        taken = {t.key for t in pick}
        rest = [t for t in route.fallbacks if t.key not in route.disabled and t.key not in taken]
        candidates = pick + rest
        if not candidates:
            raise RouteUnavailableError(
                f"route {route.name!r}: every target is switched off ({sorted(route.disabled)}); "
                f"run `pipelinekit route rollback {route.name}` or set weights"
            )
        return candidates

    def _timed(self, route: Route, target: Target, signature_name: str, run: Callable[[model_pb2.ModelSpec], T]) -> T:
        start = time.perf_counter()
        code = "OK"
        try:
            return run(_spec(target, signature_name))
        except StatusError as exc:
            code = exc.code
            raise
        except Exception:
            code = "INTERNAL"
            raise
        finally:
            self._observe(route, target, code, time.perf_counter() - start)

    def _race(
        self, route: Route, candidates: list[Target], signature_name: str, run: Callable[[model_pb2.ModelSpec], T]
    ) -> tuple[Target, T]:
        context = contextvars.copy_context()
        calls = [
            self._pool(t).submit(context.copy().run, self._timed, route, t, signature_name, run) for t in candidates
        ]
        assert route.deadline_ms is not None
        deadline = time.monotonic() + route.deadline_ms / 1000
        try:
            while True:
                decided = _best_decided(calls)
                if decided is not None:
                    return candidates[decided], calls[decided].result()
                pending = [c for c in calls if not c.done()]
                left = deadline - time.monotonic()
                if left <= 0 or not pending:
                    break
                futures.wait(pending, timeout=left, return_when=futures.FIRST_COMPLETED)
            while True:  # past the deadline: the best answer in, else the first to come
                for index, call in enumerate(calls):
                    if call.done() and call.exception() is None:
                        return candidates[index], call.result()
                pending = [c for c in calls if not c.done()]
                if not pending:
                    error = calls[0].exception()
                    assert error is not None
                    raise error
                futures.wait(pending, return_when=futures.FIRST_COMPLETED)
        finally:
            for target, call in zip(candidates, calls):
                if not call.done() and not call.cancel():
                    call.add_done_callback(functools.partial(self._late, route, target))

    def _late(self, route: Route, target: Target, call: futures.Future) -> None:
        self._metrics.late(route.name, target.key)
        logger.info("route %r: late answer from %s (%s)", route.name, target.key, "ok" if call.exception() is None else call.exception())

    def _pool(self, target: Target) -> futures.ThreadPoolExecutor:
        pool = self._pools.get(target.key)
        if pool is None:
            with self._lock:
                pool = self._pools.setdefault(
                    target.key,
                    futures.ThreadPoolExecutor(_TARGET_THREADS, thread_name_prefix=f"pipelinekit-route-{target.key}"),
                )
        return pool

    def _shadow(self, route: Route, shadow: Target, signature_name: str, run: Callable, same: Callable, answer: Any) -> None:
        def compare() -> None:
            try:
                shadow_answer = run(_spec(shadow, signature_name))
            except Exception as exc:  # noqa: BLE001 - a failing shadow is counted and logged, never raised
                self._metrics.shadow(route.name, shadow.key, "error")
                logger.info("route %r: shadow %s failed: %s", route.name, shadow.key, exc)
                return
            agrees = same(answer, shadow_answer)
            self._metrics.shadow(route.name, shadow.key, "agree" if agrees else "disagree")
            if not agrees:
                logger.info("route %r: shadow %s disagrees with the answer returned", route.name, shadow.key)

        try:
            self._shadow_queue.put_nowait(compare)
        except queue.Full:
            self._metrics.shadow(route.name, shadow.key, "dropped")

    def _shadow_loop(self) -> None:
        while True:
            job = self._shadow_queue.get()
            if job is None:
                return
            job()

    def close(self) -> None:
        """Stop the shadow workers and the target pools (running calls finish)."""
        for _ in self._shadow_threads:
            self._shadow_queue.put(None)
        for pool in list(self._pools.values()):
            pool.shutdown(wait=False, cancel_futures=True)
        self._records.shutdown(wait=True)

    # -- protection -----------------------------------------------------------------------------

    def _observe(self, route: Route, target: Target, code: str, seconds: float) -> None:
        self._metrics.observe(route.name, target.key, code, seconds)
        if route.protection is None:
            return
        key = (route.name, target.key)
        window = self._windows.get(key)
        if window is None:
            window = self._windows.setdefault(key, _Window(route.protection.window_s))
        failed = code not in ("OK", "INVALID_ARGUMENT", "FAILED_PRECONDITION")  # client faults are not the target's
        reason = window.add(seconds, failed, route.protection)
        if reason is not None:
            self._trip(route.name, target, reason)

    def _trip(self, name: str, target: Target, reason: str) -> None:
        current = self._routes.get(name)
        if current is None or target.key in current.disabled:
            return

        def switch_off(route: Route) -> Route:
            if not _answerable(route, route.disabled | {target.key}):
                raise _LastTarget
            return dataclasses.replace(route, disabled=route.disabled | {target.key})

        try:
            self._change(name, "protect", switch_off, "protection", {"target": target.key, "reason": reason}, True)
        except _LastTarget:
            self._metrics.tripped(name, target.key, "kept_last")
            self._log_kept(current, target, reason)
            return
        except RouteConfigError as exc:
            logger.error("route %r: could not switch off %s: %s", name, target.key, exc)
            return
        self._metrics.tripped(name, target.key, "switched_off")
        assert current.protection is not None
        with self._lock:
            self._readmit[(name, target.key)] = time.monotonic() + current.protection.window_s

    def _log_kept(self, route: Route, target: Target, reason: str) -> None:
        """Say, at most once per protection window, that a failing target stays as the route's last."""
        key, now = (route.name, target.key), time.monotonic()
        window_s = route.protection.window_s if route.protection is not None else 0.0
        if now - self._kept_logged.get(key, -window_s) >= window_s:
            self._kept_logged[key] = now
            logger.warning(
                "route %r: %s is kept in although %s: it is the last target able to answer; "
                "add a fallback to the route or fix the model",
                route.name, target.key, reason,
            )  # fmt: skip

    def _readmit_due(self, route: Route) -> Route:
        """Switch back on the targets protection took out of ``route`` a window ago (half-open)."""
        now = time.monotonic()
        with self._lock:
            due = [k for (r, k), at in self._readmit.items() if r == route.name and at <= now]
            for key in due:
                del self._readmit[(route.name, key)]
                self._windows.pop((route.name, key), None)  # judged afresh on the calls to come
        if not due:
            return route
        try:
            return self._change(
                route.name,
                "readmit",
                lambda r: dataclasses.replace(r, disabled=r.disabled - set(due)),
                "protection",
                {"targets": due, "reason": "the protection window has passed: tried again (half-open)"},
                True,
            )
        except RouteConfigError as exc:
            logger.error("route %r: could not switch %s back on: %s", route.name, due, exc)
            return route


class _LastTarget(Exception):
    """Protection would switch off the last target of a route able to answer."""


def _answerable(route: Route, disabled: frozenset[str]) -> bool:
    """Whether ``route`` still has a split target with weight or a fallback with ``disabled`` off."""
    return any(t.key not in disabled and t.weight > 0 for t in route.split) or any(
        t.key not in disabled for t in route.fallbacks
    )


class _Window:
    """Outcomes of one target over the last ``window_s``; judged at most every 100 ms."""

    def __init__(self, window_s: float) -> None:
        self._window_s = window_s
        self._events: deque[tuple[float, float, bool]] = deque()
        self._lock = threading.Lock()
        self._checked = 0.0

    def add(self, seconds: float, failed: bool, limits: Any) -> str | None:
        now = time.monotonic()
        with self._lock:
            self._events.append((now, seconds, failed))
            while self._events and self._events[0][0] < now - self._window_s:
                self._events.popleft()
            if now - self._checked < _CHECK_EVERY_S or len(self._events) < limits.min_requests:
                return None
            self._checked = now
            events = list(self._events)
        errors = sum(1 for e in events if e[2]) / len(events)
        if limits.max_error_rate is not None and errors > limits.max_error_rate:
            return f"error rate {errors:.0%} over the last {len(events)} requests is above {limits.max_error_rate:.0%}"
        latencies = sorted(e[1] for e in events)
        p99_ms = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000
        if limits.max_p99_ms is not None and p99_ms > limits.max_p99_ms:
            return f"p99 {p99_ms:.0f} ms over the last {len(events)} requests is above {limits.max_p99_ms:.0f} ms"
        return None


def _best_decided(calls: list[futures.Future]) -> int | None:
    """The index of the answer to return now: the first success with every better target failed."""
    for index, call in enumerate(calls):
        if not call.done():
            return None
        if call.exception() is None:
            return index
    error = calls[0].exception()  # every target failed: the preferred one's error says why
    assert error is not None
    raise error


def _pick(route_name: str, targets: list[Target]) -> Target:
    """A weighted pick: by the hash of the request key when there is one, else at random."""
    key = route_key.get()
    if key:
        digest = hashlib.blake2b(f"{route_name}\0{key}".encode(), digest_size=8).digest()
        point = int.from_bytes(digest, "big") / 2**64
    else:
        point = random.random()
    total = sum(t.weight for t in targets)
    point *= total
    for target in targets:
        point -= target.weight
        if point < 0:
            return target
    return targets[-1]


def _spec(target: Target, signature_name: str) -> model_pb2.ModelSpec:
    spec = model_pb2.ModelSpec(name=target.model, signature_name=signature_name)
    if target.version is not None:
        spec.version.value = target.version
    elif target.label:
        spec.version_label = target.label
    return spec


def describe_route(route: Route | None) -> dict[str, Any]:
    """A route as JSON-able data, for the admin API and the change records."""
    if route is None:
        return {}
    return {
        "split": {t.key: t.weight for t in route.split},
        "shadows": [t.key for t in route.shadows],
        "fallbacks": [t.key for t in route.fallbacks],
        "deadline_ms": route.deadline_ms,
        "disabled": sorted(route.disabled),
    }


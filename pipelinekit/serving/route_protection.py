"""Protection, a circuit breaker per route target.

A target whose error rate or p99 over the route's window crosses a limit is switched off in the
route (as ``disable`` would), with a log line, a metric and a recorded change, unless it is the
route's last target able to answer (then it stays, counted as ``kept_last``). After ``window_s``
it is switched back on (half-open): if it still fails, it trips again.

A client's fault (INVALID_ARGUMENT, FAILED_PRECONDITION) counts against a target only beyond what
the route's other targets answer to the same kind of request: splits pick targets regardless of
the request's content, so malformed requests reach every target alike, while a target that
rejects what the others answer (a canary whose graph asserts fail) is broken itself.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Hashable, Iterable

from pipelinekit.serving.metrics import RouteMetrics
from pipelinekit.serving.route_table import RouteTable
from pipelinekit.serving.routes import Protection, Route, RouteConfigError, Target

__all__ = ["CircuitBreaker"]

logger = logging.getLogger(__name__)

_CHECK_EVERY_S = 0.1
_CLIENT_FAULTS = ("INVALID_ARGUMENT", "FAILED_PRECONDITION")


class CircuitBreaker:
    """Judges every target call of a protected route; trips and re-admits targets in ``table``."""

    def __init__(self, table: RouteTable, metrics: RouteMetrics) -> None:
        self._table = table
        self._metrics = metrics
        self._windows: dict[tuple[str, str], _Window] = {}
        self._readmit: dict[tuple[str, str], float] = {}  # (route, target) tripped -> when to switch it back on
        self._kept_logged: dict[tuple[str, str], float] = {}  # (route, target) -> last "kept the last target" log

    def forget(self, routes: dict[str, Route], changed: set[str]) -> None:
        """Called under the table's lock: drop the windows of routes gone, and the pending
        re-admissions of routes gone or changed by a person or the file (their change takes over)."""
        self._windows = {k: w for k, w in self._windows.items() if k[0] in routes}
        self._readmit = {k: t for k, t in self._readmit.items() if k[0] in routes and k[0] not in changed}

    def observe(self, route: Route, target: Target, code: str, seconds: float, kind: Hashable) -> None:
        """Judge one call of ``target``; trip it when its window crosses a limit."""
        if route.protection is None:
            return
        key = (route.name, target.key)
        window = self._windows.get(key)
        if window is None:
            window = self._windows.setdefault(key, _Window(route.protection.window_s))
        outcome = "ok" if code == "OK" else "rejected" if code in _CLIENT_FAULTS else "failed"
        if window.add(seconds, outcome, kind, route.protection):
            peers = [w for (name, other), w in list(self._windows.items()) if name == route.name and other != target.key]
            reason = window.judge(route.protection, peers)
            if reason is not None:
                self._trip(route.name, target, reason)

    def _trip(self, name: str, target: Target, reason: str) -> None:
        current = self._table.routes.get(name)
        if current is None or target.key in current.disabled:
            return

        def switch_off(route: Route) -> Route:
            if not _answerable(route, route.disabled | {target.key}):
                raise _LastTarget
            return dataclasses.replace(route, disabled=route.disabled | {target.key})

        try:
            self._table.change(name, "protect", switch_off, "protection", {"target": target.key, "reason": reason}, True)
        except _LastTarget:
            self._metrics.tripped(name, target.key, "kept_last")
            self._log_kept(current, target, reason)
            return
        except RouteConfigError as exc:
            logger.error("route %r: could not switch off %s: %s", name, target.key, exc)
            return
        self._metrics.tripped(name, target.key, "switched_off")
        assert current.protection is not None
        with self._table.lock:
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

    def readmit_due(self, route: Route) -> Route:
        """Switch back on the targets protection took out of ``route`` a window ago (half-open)."""
        if not self._readmit:
            return route
        now = time.monotonic()
        with self._table.lock:
            due = [k for (r, k), at in self._readmit.items() if r == route.name and at <= now]
            for key in due:
                del self._readmit[(route.name, key)]
                self._windows.pop((route.name, key), None)  # judged afresh on the calls to come
        if not due:
            return route
        try:
            return self._table.change(
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
    return any(t.key not in disabled and t.weight > 0 for t in route.split) or any(t.key not in disabled for t in route.fallbacks)


# One call: (when, seconds, "ok" / "failed" / "rejected" (a client's fault), the kind of request).
_Event = tuple[float, float, str, Hashable]
_OUTCOMES = ("ok", "failed", "rejected")


class _Window:
    """Outcomes of one target over the last ``window_s``, counted by kind of request as they come
    and go (so judging costs no pass over the calls); judged at most every 100 ms."""

    def __init__(self, window_s: float) -> None:
        self._window_s = window_s
        self._events: deque[_Event] = deque()
        self._counts: Counter[tuple[Hashable, str]] = Counter()  # (kind, outcome) -> calls in the window
        self._lock = threading.Lock()
        self._checked = 0.0

    def add(self, seconds: float, outcome: str, kind: Hashable, limits: Protection) -> bool:
        """Keep one call's outcome; whether it is time to judge the window."""
        now = time.monotonic()
        with self._lock:
            self._events.append((now, seconds, outcome, kind))
            self._counts[kind, outcome] += 1
            if now - self._checked < _CHECK_EVERY_S or len(self._recent(now)) < limits.min_requests:
                return False
            self._checked = now
            return True

    def _recent(self, now: float) -> deque[_Event]:
        while self._events and self._events[0][0] < now - self._window_s:
            _, _, outcome, kind = self._events.popleft()
            self._counts[kind, outcome] -= 1
            if not self._counts[kind, outcome]:
                del self._counts[kind, outcome]
        return self._events

    def counts(self) -> Counter[tuple[Hashable, str]]:
        """Calls over the last ``window_s`` by (kind of request, outcome)."""
        with self._lock:
            self._recent(time.monotonic())
            return Counter(self._counts)

    def judge(self, limits: Protection, peers: Iterable[_Window]) -> str | None:
        """Why the target should be switched off, if it should; ``peers``: the route's other targets."""
        with self._lock:
            calls = len(self._recent(time.monotonic()))
            counts = Counter(self._counts)
            latencies = sorted(e[1] for e in self._events) if limits.max_p99_ms is not None else []
        if not calls:
            return None
        peer = sum((p.counts() for p in peers), Counter[tuple[Hashable, str]]())
        own_fault = 0.0  # rejections beyond the share the other targets reject of the same kind
        for (kind, outcome), rejected in counts.items():
            peer_calls = sum(peer[kind, o] for o in _OUTCOMES)
            if outcome == "rejected" and peer_calls:
                kind_calls = sum(counts[kind, o] for o in _OUTCOMES)
                own_fault += max(0.0, rejected - kind_calls * peer[kind, "rejected"] / peer_calls)
        errors = (sum(n for (_, outcome), n in counts.items() if outcome == "failed") + own_fault) / calls
        if limits.max_error_rate is not None and errors > limits.max_error_rate:
            blamed = f", {own_fault:.0f} of them client errors the route's other targets did not give" if own_fault else ""
            return f"error rate {errors:.0%} over the last {calls} requests is above {limits.max_error_rate:.0%}{blamed}"
        if latencies and limits.max_p99_ms is not None:
            p99_ms = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000
            if p99_ms > limits.max_p99_ms:
                return f"p99 {p99_ms:.0f} ms over the last {calls} requests is above {limits.max_p99_ms:.0f} ms"
        return None

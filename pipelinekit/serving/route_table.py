"""The routes in force, and which of a route's targets a request goes to.

The routes are swapped whole (copy-on-write), checked against the served models, kept for
rollback (20 states per route), and every change is recorded off the request path. A request
goes to the split's weighted pick, then the fallbacks; a request key (gRPC metadata or REST
header ``x-route-key``) hashes to the same pick every time while the weights stay.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import random
import threading
from collections.abc import Callable
from concurrent import futures
from typing import Any

from tensorflow_serving.apis import model_pb2

from pipelinekit.serving.errors import StatusError
from pipelinekit.serving.routes import Route, RouteConfigError, Target

__all__ = [
    "ROUTE_KEY_HEADER",
    "ChangeRecorder",
    "RouteTable",
    "RouteUnavailableError",
    "candidates",
    "describe_route",
    "route_key",
    "target_spec",
]

logger = logging.getLogger(__name__)

# Called with (route, action, details, who) after each change to the routes in force.
ChangeRecorder = Callable[[str, str, dict[str, Any], str], None]

_HISTORY = 20

# The request key for sticky splits: gRPC metadata key and REST header (case-insensitive there).
ROUTE_KEY_HEADER = "x-route-key"
route_key: contextvars.ContextVar[str | None] = contextvars.ContextVar("route_key", default=None)


class RouteUnavailableError(StatusError):
    """Every target of a route is switched off or failed."""

    code = "UNAVAILABLE"


class RouteTable:
    """The routes in force; ``lock`` guards them and what a subclass keeps beside them (see ``_changed``)."""

    def __init__(self, serves: Callable[[str], bool], record: ChangeRecorder | None = None) -> None:
        self._serves = serves
        self._record = record
        self.routes: dict[str, Route] = {}
        self._history: dict[str, list[Route]] = {}
        self.lock = threading.Lock()
        self._records = futures.ThreadPoolExecutor(1, thread_name_prefix="pipelinekit-route-records")

    def is_route(self, name: str) -> bool:
        return name in self.routes

    def set_routes(self, routes: dict[str, Route], who: str = "route file") -> None:
        """Put a whole new set of routes in force, or raise and keep the old ones."""
        problems = [p for route in routes.values() for p in self._problems(route)]
        if problems:
            raise RouteConfigError(f"routes not applied ({len(problems)} problem(s)): " + "; ".join(problems))
        with self.lock:
            old, self.routes = self.routes, dict(routes)
            self._history = {  # a changed route can be rolled back to what was in force before
                name: [*self._history.get(name, []), *([old[name]] if name in old and old[name] != route else [])][-_HISTORY:]
                for name, route in routes.items()
            }
            self._changed(self.routes, {name for name, route in routes.items() if old.get(name) != route})
        if set(old) != set(routes) or any(old.get(n) != r for n, r in routes.items()):
            logger.info("routes in force: %s", sorted(routes))
            for name in sorted(set(routes) | set(old)):
                if old.get(name) != routes.get(name):
                    self._recorded(name, "load", {"route": describe_route(routes.get(name))}, who)

    def change(
        self,
        name: str,
        action: str,
        update: Callable[[Route], Route],
        who: str,
        details: dict[str, Any],
        by_protection: bool = False,
    ) -> Route:
        """Apply one change to one route (kept for rollback) and record it; the new route.

        A person's change takes over from protection: its pending re-admissions in the route are dropped.
        """
        with self.lock:
            route = self.route(name)
            new = update(route)
            problems = self._problems(new)
            if problems:
                raise RouteConfigError(f"route {name!r}: {action} not applied: " + "; ".join(problems))
            self._history[name] = [*self._history.get(name, []), route][-_HISTORY:]
            self.routes = {**self.routes, name: new}
            if not by_protection:
                self._changed(self.routes, {name})
        logger.warning("route %r: %s by %s: %s", name, action, who, details)
        self._recorded(name, action, {**details, "route": describe_route(new)}, who)
        return new

    def rollback(self, name: str, who: str) -> Route:
        """Put back the route as it was before its last change."""
        with self.lock:
            self.route(name)
            history = self._history.get(name) or []
            if not history:
                raise RouteConfigError(f"route {name!r} has no earlier state to roll back to")
            previous = history.pop()
            self.routes = {**self.routes, name: previous}
            self._changed(self.routes, {name})
        logger.warning("route %r: rolled back by %s", name, who)
        self._recorded(name, "rollback", {"route": describe_route(previous)}, who)
        return previous

    def _changed(self, routes: dict[str, Route], changed: set[str]) -> None:
        """Called under ``lock`` with the routes now in force and the names a person or the file changed."""

    def route(self, name: str) -> Route:
        """The route ``name`` in force, or NOT_FOUND naming the routes there are."""
        route = self.routes.get(name)
        if route is None:
            raise RouteConfigError(f"no route named {name!r}; routes: {sorted(self.routes)}", code="NOT_FOUND")
        return route

    def _problems(self, route: Route) -> list[str]:
        """What keeps ``route`` from going in force, each with its line in the route file when it has one."""
        problems = []
        if self._serves(route.name):
            problems.append(f"{_at(route.line)}name: route {route.name!r} has the name of a served model; rename the route")
        for field_name, target in route.places():
            if not self._serves(target.model):
                problems.append(
                    f"{_at(target.line)}route {route.name!r} {field_name}: model: target {target.key!r} names no served "
                    "model; add it to the model config or fix the name"
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

    def close(self) -> None:
        """Record what is queued, then stop the recording thread."""
        self._records.shutdown(wait=True)


def _at(line: int | None) -> str:
    return f"line {line}: " if line is not None else ""


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


def candidates(route: Route) -> list[Target]:
    """The split's pick, then the fallbacks, without switched-off targets."""
    active = [t for t in route.split if t.key not in route.disabled and t.weight > 0]
    pick = [_pick(route.name, active)] if active else []
    taken = {t.key for t in pick}
    rest = [t for t in route.fallbacks if t.key not in route.disabled and t.key not in taken]
    if not pick + rest:
        raise RouteUnavailableError(
            f"route {route.name!r}: every target is switched off ({sorted(route.disabled)}); "
            f"run `pipelinekit route rollback {route.name}` or set weights"
        )
    return pick + rest


def _pick(route_name: str, targets: list[Target]) -> Target:
    """A weighted pick: by the hash of the request key when there is one, else at random."""
    key = route_key.get()
    if key:
        digest = hashlib.blake2b(f"{route_name}\0{key}".encode(), digest_size=8).digest()
        point = int.from_bytes(digest, "big") / 2**64
    else:
        point = random.random()
    point *= sum(t.weight for t in targets)
    for target in targets:
        point -= target.weight
        if point < 0:
            return target
    return targets[-1]


def target_spec(target: Target, signature_name: str) -> model_pb2.ModelSpec:
    """The ModelSpec that calls ``target``'s model at its version, label or latest."""
    spec = model_pb2.ModelSpec(name=target.model, signature_name=signature_name)
    if target.version is not None:
        spec.version.value = target.version
    elif target.label:
        spec.version_label = target.label
    return spec

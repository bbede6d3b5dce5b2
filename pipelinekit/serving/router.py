"""The rendezvous: a request to a route goes to the split's pick, its fallbacks and its shadows.

One module per job: the routes in force and the pick (``route_table``), calling the targets with
the deadline and fallback race (``route_dispatch``), the shadow copies (``route_shadows``) and
protection, the circuit breaker (``route_protection``). The router puts them together.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from tensorflow_serving.apis import model_pb2

from pipelinekit.serving.metrics import RouteMetrics
from pipelinekit.serving.route_dispatch import Dispatcher
from pipelinekit.serving.route_protection import CircuitBreaker
from pipelinekit.serving.route_shadows import ShadowQueue
from pipelinekit.serving.route_table import (
    ROUTE_KEY_HEADER,
    ChangeRecorder,
    RouteTable,
    RouteUnavailableError,
    candidates,
    describe_route,
    route_key,
    target_spec,
)
from pipelinekit.serving.routes import Route, Target

__all__ = ["ROUTE_KEY_HEADER", "ChangeRecorder", "RouteUnavailableError", "Router", "describe_route", "route_key"]

T = TypeVar("T")


class Router(RouteTable):
    """The routes in force (swapped whole, copy-on-write) and the calls through them."""

    def __init__(self, serves: Callable[[str], bool], metrics: RouteMetrics, record: ChangeRecorder | None = None) -> None:
        super().__init__(serves, record)
        self._metrics = metrics
        self._breaker = CircuitBreaker(self, metrics)
        self._dispatch = Dispatcher(metrics, self._observe)
        self._shadows = ShadowQueue(metrics)

    def _changed(self, routes: dict[str, Route], changed: set[str]) -> None:
        self._breaker.forget(routes, changed)

    def primary(self, name: str) -> model_pb2.ModelSpec:
        """The spec of the target a request to route ``name`` would go to first (for signatures)."""
        return target_spec(candidates(self.route(name))[0], "")

    def call(
        self,
        name: str,
        signature_name: str,
        run: Callable[[model_pb2.ModelSpec], T],
        same: Callable[[T, T], bool],
        kind: Callable[[], Hashable] | None = None,
    ) -> T:
        """Answer one request to route ``name``: ``run`` calls a target; ``same`` compares answers;
        ``kind`` says what kind of request it is, for protection to compare the targets on (without
        it, every request to the route is of one kind)."""
        route = self._breaker.readmit_due(self.route(name))
        targets = candidates(route)
        request_kind = kind() if kind is not None and route.protection is not None else None
        winner, answer = self._dispatch.answer(
            route, targets, lambda target: run(target_spec(target, signature_name)), request_kind
        )
        if winner is not targets[0] or winner.key not in {t.key for t in route.split}:
            self._metrics.fallback(route.name, winner.key)
        for shadow in route.shadows:
            if shadow.key not in route.disabled:
                self._shadows.send(route, shadow, signature_name, run, same, answer)
        return answer

    def _observe(self, route: Route, target: Target, code: str, seconds: float, kind: Hashable) -> None:
        self._metrics.observe(route.name, target.key, code, seconds)
        self._breaker.observe(route, target, code, seconds, kind)

    def close(self) -> None:
        """Stop the shadow workers and the target pools (running calls finish)."""
        self._shadows.close()
        self._dispatch.close()
        super().close()

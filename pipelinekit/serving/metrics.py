"""Prometheus metrics of one model server: requests by model, API and status, and latency.

Each server owns its registry, so several servers in one process (as in tests) do not clash.
Under ``serve --num_workers N`` the workers keep their figures in prometheus_client's
multiprocess files (the supervisor sets ``PROMETHEUS_MULTIPROC_DIR``), so a scrape answered by
any worker gives every worker's: counts summed over the workers, the request metrics also by
``worker``, and ``pipelinekit_serving_worker{worker, pid}`` naming the worker that answered.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE", "MULTIPROCESS_DIR_ENV", "RequestLogMetrics", "RouteMetrics", "ServerMetrics"]

MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client reads it when it is imported

UNKNOWN_MODEL = "_unknown_"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServerMetrics:
    """Request counters and latency histograms, plus a gauge of the versions each model serves."""

    def __init__(
        self,
        available_versions: Callable[[], dict[str, list[int]]],
        is_served: Callable[[str], bool],
        worker: int | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        self._worker = worker
        labels = ["model", "api", "status", *(["worker"] if worker is not None else [])]
        self._requests = Counter(
            "pipelinekit_serving_requests",
            "Requests handled, by model, API (e.g. grpc.Predict, rest.predict) and status code.",
            labels,
            registry=self.registry,
        )
        self._latency = Histogram(
            "pipelinekit_serving_request_latency_seconds",
            "Request latency in seconds, by model, API and status code.",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._is_served = is_served
        self._children: dict[tuple[str, str, str], tuple[Any, Any]] = {}
        self._own_collectors: list[Collector] = [_VersionsCollector(available_versions)]
        if worker is not None:
            self._own_collectors.append(_WorkerCollector(worker))
        for collector in self._own_collectors:
            self.registry.register(collector)
        self.routes = RouteMetrics(self.registry)
        self.request_log = RequestLogMetrics(self.registry)

    def observe(self, model: str, api: str, status: str, seconds: float) -> None:
        """Record one finished request; names of models not served count as ``_unknown_``.

        So a client sending arbitrary model names cannot grow the number of series without bound.
        """
        if not self._is_served(model):
            model = UNKNOWN_MODEL
        key = (model, api, status)
        children = self._children.get(key)
        if children is None:  # labels() costs a lock and a lookup per call: keep the children
            labels = (*key, str(self._worker)) if self._worker is not None else key
            children = self._children[key] = (self._requests.labels(*labels), self._latency.labels(*labels))
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric (of every worker, under ``--num_workers``)."""
        directory = os.environ.get(MULTIPROCESS_DIR_ENV) if self._worker is not None else None
        if not directory:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, directory)
        for collector in self._own_collectors:  # read at scrape time in this worker, not kept in files
            registry.register(collector)
        return generate_latest(registry)


class RouteMetrics:
    """Per route and target: calls, latency, fallbacks taken, late answers, shadow outcomes, trips.

    Routes and targets come from the route file, so the label sets stay bounded.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["route", "target"]
        self._calls = Counter(
            "pipelinekit_route_target_calls", "Calls a route made to a target, by status code.",
            [*labels, "status"], registry=registry,
        )  # fmt: skip
        self._latency = Histogram(
            "pipelinekit_route_target_latency_seconds", "Latency of a route's calls to a target.",
            labels, buckets=_LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self._fallbacks = Counter(
            "pipelinekit_route_fallbacks", "Requests a route answered with a target other than the split's pick.",
            labels, registry=registry,
        )  # fmt: skip
        self._late = Counter(
            "pipelinekit_route_late_answers", "Answers that came after the route had answered.", labels,
            registry=registry,
        )  # fmt: skip
        self._shadow = Counter(
            "pipelinekit_route_shadow_calls", "Shadow copies by outcome: agree, disagree, error, dropped.",
            [*labels, "outcome"], registry=registry,
        )  # fmt: skip
        self._tripped = Counter(
            "pipelinekit_route_protection_trips",
            "Protection trips (error rate or p99) by outcome: switched_off, or kept_last (the route's last target).",
            [*labels, "outcome"], registry=registry,
        )  # fmt: skip

    def observe(self, route: str, target: str, status: str, seconds: float) -> None:
        self._calls.labels(route, target, status).inc()
        self._latency.labels(route, target).observe(seconds)

    def fallback(self, route: str, target: str) -> None:
        self._fallbacks.labels(route, target).inc()

    def late(self, route: str, target: str) -> None:
        self._late.labels(route, target).inc()

    def shadow(self, route: str, target: str, outcome: str) -> None:
        self._shadow.labels(route, target, outcome).inc()

    def tripped(self, route: str, target: str, outcome: str) -> None:
        self._tripped.labels(route, target, outcome).inc()


class RequestLogMetrics:
    """Request log records written and dropped (queue full or write failure), by model."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._records = Counter(
            "pipelinekit_request_log_records", "PredictionLog records by outcome: written or dropped.",
            ["model", "outcome"], registry=registry,
        )  # fmt: skip

    def written(self, model: str) -> None:
        self._records.labels(model, "written").inc()

    def dropped(self, model: str) -> None:
        self._records.labels(model, "dropped").inc()


class _VersionsCollector(Collector):
    """Reads the serving versions at scrape time, so the gauge is never stale."""

    def __init__(self, available_versions: Callable[[], dict[str, list[int]]]) -> None:
        self._available_versions = available_versions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "pipelinekit_serving_model_versions_available",
            "Versions of each model that are serving now.",
            labels=["model"],
        )
        for model, versions in self._available_versions().items():
            gauge.add_metric([model], len(versions))
        yield gauge


class _WorkerCollector(Collector):
    """``pipelinekit_serving_worker{worker, pid} 1``: which worker process answered the scrape."""

    def __init__(self, worker: int) -> None:
        self._worker = worker

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "pipelinekit_serving_worker", "The worker process (index and pid) that answered this scrape.",
            labels=["worker", "pid"],
        )  # fmt: skip
        gauge.add_metric([str(self._worker), str(os.getpid())], 1)
        yield gauge

"""What a running model server says about itself on its Prometheus endpoint, per served model and
per route target: requests, errors, latency; parsed with prometheus_client's own text parser."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelinekit.errors import ServingError

__all__ = ["TrafficFigures", "ServerSnapshot", "read_server", "parse_metrics", "METRICS_PATH"]

METRICS_PATH = "/monitoring/prometheus/metrics"
_OK = "OK"


@dataclass
class TrafficFigures:
    """Counts and latency of one model or one route target."""

    requests: float = 0.0
    errors: float = 0.0
    latency_sum: float = 0.0
    latency_count: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)
    by_status: dict[str, float] = field(default_factory=dict)

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def mean_ms(self) -> float | None:
        return 1000 * self.latency_sum / self.latency_count if self.latency_count else None

    def quantile_ms(self, q: float) -> float | None:
        """The upper bound of the histogram bucket holding the ``q`` quantile (Prometheus's own
        ``histogram_quantile`` interpolates inside it; the bound is the honest figure)."""
        if not self.latency_count:
            return None
        wanted = q * self.latency_count
        for bound in sorted(self.buckets):
            if self.buckets[bound] >= wanted:
                return 1000 * bound
        return None


@dataclass
class ServerSnapshot:
    """One scrape: figures per model and per (route, target), versions serving, protection trips."""

    url: str
    models: dict[str, TrafficFigures] = field(default_factory=dict)
    targets: dict[tuple[str, str], TrafficFigures] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    trips: dict[tuple[str, str], float] = field(default_factory=dict)
    fallbacks: dict[tuple[str, str], float] = field(default_factory=dict)


def parse_metrics(text: str, url: str = "") -> ServerSnapshot:
    """A snapshot from Prometheus text; series of other programs are ignored, workers are summed."""
    from prometheus_client.parser import text_string_to_metric_families

    snapshot = ServerSnapshot(url)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels, value = sample.labels, sample.value
            if family.name == "pipelinekit_serving_requests" and sample.name.endswith("_total"):
                _count(snapshot.models.setdefault(labels["model"], TrafficFigures()), labels.get("status", ""), value)
            elif family.name == "pipelinekit_serving_request_latency_seconds":
                _latency(snapshot.models.setdefault(labels["model"], TrafficFigures()), sample.name, labels, value)
            elif family.name == "pipelinekit_route_target_calls" and sample.name.endswith("_total"):
                _count(
                    snapshot.targets.setdefault((labels["route"], labels["target"]), TrafficFigures()),
                    labels.get("status", ""),
                    value,
                )
            elif family.name == "pipelinekit_route_target_latency_seconds":
                _latency(
                    snapshot.targets.setdefault((labels["route"], labels["target"]), TrafficFigures()), sample.name, labels, value
                )
            elif family.name == "pipelinekit_serving_model_versions_available":
                snapshot.versions[labels["model"]] = int(value)
                snapshot.models.setdefault(labels["model"], TrafficFigures())
            elif family.name == "pipelinekit_route_protection_trips" and sample.name.endswith("_total"):
                key = (labels["route"], labels["target"])
                snapshot.trips[key] = snapshot.trips.get(key, 0.0) + value
            elif family.name == "pipelinekit_route_fallbacks" and sample.name.endswith("_total"):
                key = (labels["route"], labels["target"])
                snapshot.fallbacks[key] = snapshot.fallbacks.get(key, 0.0) + value
    return snapshot


def _count(figures: TrafficFigures, status: str, value: float) -> None:
    figures.requests += value
    figures.by_status[status] = figures.by_status.get(status, 0.0) + value
    if status != _OK:
        figures.errors += value


def _latency(figures: TrafficFigures, sample: str, labels: dict[str, str], value: float) -> None:
    if sample.endswith("_sum"):
        figures.latency_sum += value
    elif sample.endswith("_count"):
        figures.latency_count += value
    elif sample.endswith("_bucket") and labels.get("le") not in (None, "+Inf"):
        bound = float(labels["le"])
        figures.buckets[bound] = figures.buckets.get(bound, 0.0) + value


def read_server(base_url: str, timeout_s: float = 3.0) -> ServerSnapshot:
    """Scrape the server whose REST port is at ``base_url`` (e.g. ``http://127.0.0.1:8501``)."""
    import httpx

    url = base_url.rstrip("/") + METRICS_PATH
    try:
        response = httpx.get(url, timeout=timeout_s)
    except httpx.HTTPError as error:
        raise ServingError(
            f"cannot read the server's metrics at {url}: {error}; is `pipelinekit serve` running there?"
        ) from error
    if response.status_code != 200:
        raise ServingError(f"the server's metrics at {url} answered HTTP {response.status_code}")
    return parse_metrics(response.text, url)

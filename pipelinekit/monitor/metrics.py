"""The monitor's Prometheus metrics: per version and metric the last window's value, and alerts.

Written after each window to ``<state_dir>/monitor.prom`` (node_exporter's textfile collector
reads it) and served on ``--metrics_port`` when ``pipelinekit monitor --every`` is given one.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, write_to_textfile

__all__ = ["MonitorMetrics"]


class MonitorMetrics:
    def __init__(self, model: str) -> None:
        self.registry = CollectorRegistry()
        self._model = model
        self._value = Gauge("pipelinekit_monitor_value", "The last window's value of a monitored metric.",
                            ["model", "version", "metric"], registry=self.registry)  # fmt: skip
        self._alerts = Counter("pipelinekit_monitor_alerts", "Rules that tripped, by rule and action taken.",
                               ["model", "version", "rule", "action"], registry=self.registry)  # fmt: skip
        self._skipped = Counter("pipelinekit_monitor_skipped_files", "Corrupt or incomplete request log files skipped.",
                                ["model"], registry=self.registry)  # fmt: skip

    def observe(self, version: str, metrics: dict[str, float]) -> None:
        for name, value in metrics.items():
            self._value.labels(self._model, version, name).set(value)

    def alert(self, version: str, rule: str, action: str) -> None:
        self._alerts.labels(self._model, version, rule, action).inc()

    def skipped(self, files: int) -> None:
        self._skipped.labels(self._model).inc(files)

    def write(self, state_dir: str) -> None:
        write_to_textfile(os.path.join(state_dir, "monitor.prom"), self.registry)

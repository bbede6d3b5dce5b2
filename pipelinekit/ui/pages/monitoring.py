"""``/monitoring``: what ``pipelinekit monitor`` recorded in ML Metadata (its ``ModelMonitor``
contexts, see :mod:`pipelinekit.monitor.lineage`): per model version, the drift and skew measures
and the performance of each window as line charts, and the actions the monitor's rules took."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from pipelinekit.ui.pages import Page

logger = logging.getLogger(__name__)

DRIFT_MEASURES = ("drift_ratio", "skew_ratio", "prediction_drift", "drift_features", "skew_features", "schema_anomalies")
"""Window measures drawn in the drift chart; every other number but the request count is drawn as performance."""
COUNTS = ("requests", "labeled")
MAX_EXECUTIONS = 5000
"""Newest monitor executions read per model."""


@dataclass
class VersionWindows:
    """One model version's windows, oldest first: ``{"window", "at", **measures}`` each."""

    version: str
    windows: list[dict[str, Any]] = field(default_factory=list)

    def rows(self, drift: bool) -> list[dict[str, Any]]:
        """Chart rows of the drift measures (``drift``) or the performance ones."""
        return [
            {"window": w["window"], "measure": name, "value": value}
            for w in self.windows
            for name, value in sorted(w["measures"].items())
            if (name in DRIFT_MEASURES) == drift and name not in COUNTS
        ]


@dataclass
class MonitoredModel:
    name: str
    versions: list[VersionWindows]
    actions: list[dict[str, Any]]


def _window_number(key: str) -> int:
    """The window's number from its key ``<model>:<window>:<monitor>:...``; 0 when it has none."""
    parts = key.split(":")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def _measures(text: Any) -> dict[str, float]:
    """A window's numeric measures from its ``metrics`` JSON; what is not a number is left out."""
    try:
        values = json.loads(text or "{}")
    except ValueError:
        logger.warning("a MonitorWindow's metrics are not JSON: %.80r", text)
        return {}
    if not isinstance(values, dict):
        return {}
    return {str(k): float(v) for k, v in values.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def monitored_models(store: Any) -> list[MonitoredModel]:
    """Every model with a ``ModelMonitor`` context, its windows per version and its actions."""
    from pipelinekit.metadata.convert import from_value
    from pipelinekit.monitor.lineage import CONTEXT_TYPE

    models = []
    type_names: dict[int, str] = {}
    for context in sorted(store.raw.get_contexts_by_type(CONTEXT_TYPE), key=lambda c: c.name):
        by_version: dict[str, VersionWindows] = {}
        actions = []
        executions = sorted(store.raw.get_executions_by_context(context.id), key=lambda e: e.id)[-MAX_EXECUTIONS:]
        for execution in executions:
            if execution.type_id not in type_names:
                type_names[execution.type_id] = store.raw.get_execution_types_by_id([execution.type_id])[0].name
            kind = type_names[execution.type_id]
            properties = {k: from_value(v) for k, v in execution.custom_properties.items()}
            key = str(properties.get("window_key", ""))
            at = execution.create_time_since_epoch / 1000.0
            if kind == "MonitorWindow":
                version = str(properties.get("version", ""))
                measures = _measures(properties.get("metrics"))
                by_version.setdefault(version, VersionWindows(version)).windows.append(
                    {"window": _window_number(key), "at": at, "measures": measures}
                )
            elif kind == "MonitorAction":
                actions.append({"window": _window_number(key), "at": at, **properties})
        models.append(MonitoredModel(context.name, [by_version[v] for v in sorted(by_version)], actions[::-1]))
    return models


def routes(context: Any) -> list[Any]:
    from starlette.routing import Route

    from pipelinekit.report.charts import ChartSet, line_chart
    from pipelinekit.report.render import script_json

    def monitoring_page(request: Any) -> Any:
        charts = ChartSet()
        models = monitored_models(context.store)
        chart_ids: dict[tuple[str, str, str], str] = {}
        for model in models:
            for version in model.versions:
                for drift, title in ((True, "drift and skew"), (False, "performance")):
                    rows = version.rows(drift)
                    if rows:
                        chart_ids[(model.name, version.version, title)] = charts.add(line_chart(rows, "window", "window", title))
        return context.render(
            request, "monitoring.html", models=models, chart_ids=chart_ids, charts_json=script_json(charts.specs)
        )

    return [Route("/monitoring", monitoring_page, name="monitoring")]


PAGE = Page("Monitoring", "/monitoring", routes)

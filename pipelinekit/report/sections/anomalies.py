"""Anomalies TFDV found against the schema, and drift and skew against baseline or serving statistics."""

from __future__ import annotations

from pipelinekit.report.charts import ChartSet
from pipelinekit.report.readers import read_anomalies
from pipelinekit.report.run_view import RunView
from pipelinekit.report.sections import Section
from pipelinekit.report.summaries import summarize_anomalies, summarize_drift


def build(run: RunView, charts: ChartSet) -> Section | None:
    groups = []
    for node, key, artifact in run.artifacts("ExampleAnomalies"):
        found = read_anomalies(artifact)
        compared = artifact.custom_properties.get("compared_splits") or {}
        groups.append(
            {
                "title": f"{node.node_id}.{key}",
                "splits": sorted(found),
                "anomalies": summarize_anomalies(found),
                "drift": summarize_drift(found),
                "compared": compared,
            }
        )
    if not groups:
        return None
    return Section("anomalies", "Anomalies, drift and skew", "section_anomalies.html", {"groups": groups})

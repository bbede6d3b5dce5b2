"""The schema(s) the run wrote or reused: each feature's type, presence, valency and domain."""

from __future__ import annotations

from pipelinekit.report.charts import ChartSet
from pipelinekit.report.readers import read_schema
from pipelinekit.report.run_view import RunView
from pipelinekit.report.sections import Section
from pipelinekit.report.summaries import summarize_schema


def build(run: RunView, charts: ChartSet) -> Section | None:
    schemas = []
    for node, key, artifact in run.artifacts("Schema"):
        schema = read_schema(artifact)
        if schema is not None:
            schemas.append({"title": f"{node.node_id}.{key}", "uri": artifact.uri, "features": summarize_schema(schema)})
    if not schemas:
        return None
    return Section("schema", "Schema", "section_schema.html", {"schemas": schemas})

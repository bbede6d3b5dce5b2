"""What the run pushed where: each PushedModel's version and destination, or why nothing was pushed."""

from __future__ import annotations

from pipelinekit.report.charts import ChartSet
from pipelinekit.report.run_view import RunView
from pipelinekit.report.sections import Section


def build(run: RunView, charts: ChartSet) -> Section | None:
    pushes = []
    for node, _, artifact in run.artifacts("PushedModel"):
        custom = artifact.custom_properties
        pushed = custom.get("pushed", artifact.properties.get("pushed"))
        pushes.append(
            {
                "node": node.node_id,
                "state": node.state,
                "pushed": bool(pushed),
                "version": custom.get("pushed_version", ""),
                "destination": custom.get("pushed_destination", ""),
                "reason": str(custom.get("reason", "")),
            }
        )
    if not pushes:
        return None
    return Section("pushes", "Pushed models", "section_pushes.html", {"pushes": pushes})

"""The run's DAG: each node coloured by its state, with its time and why it ran or was cached."""

from __future__ import annotations

from pipelinekit.report.charts import STATE_COLORS, ChartSet, graph_chart
from pipelinekit.report.run_view import RunView
from pipelinekit.report.sections import Section


def build(run: RunView, charts: ChartSet) -> Section:
    nodes = [
        {
            "id": node.node_id,
            "label": node.node_id,
            "color": STATE_COLORS.get(node.state, "#9e9e9e"),
            "shape": "square",
            "component": node.component,
            "state": node.state,
            "seconds": round(node.seconds, 2) if node.seconds is not None else None,
            "reason": node.reason[:200],
        }
        for node in run.nodes
    ]
    edges = [(a, b) for a, b, _ in run.edges()]
    chart_id = charts.add(graph_chart(nodes, sorted(set(edges))))
    legend = {state: color for state, color in STATE_COLORS.items() if any(n.state == state for n in run.nodes)}
    return Section("dag", "Pipeline", "section_dag.html", {"chart": chart_id, "nodes": run.nodes, "legend": legend})

"""The lineage graph of the run's artifacts: every artifact a node of the run read or wrote, and the
executions between them (an input from an earlier run, such as the baseline model, included)."""

from __future__ import annotations

from pipelinekit.report.charts import STATE_COLORS, ChartSet, graph_chart
from pipelinekit.report.run_view import RunView
from pipelinekit.report.sections import Section

ARTIFACT_COLOR = "#6d4c41"


def lineage_graph(run: RunView) -> tuple[list[dict], list[tuple[str, str]]]:
    """Graph nodes (artifacts as circles, executions as squares) and edges artifact -> execution -> artifact."""
    nodes: dict[str, dict] = {}
    edges = set()
    for node in run.nodes:
        execution = f"e{node.execution.id}"
        nodes[execution] = {
            "id": execution,
            "label": node.node_id,
            "color": STATE_COLORS.get(node.state, "#9e9e9e"),
            "shape": "square",
            "kind": f"execution #{node.execution.id} ({node.component}, {node.state})",
        }
        for direction, groups in (("INPUT", node.inputs), ("OUTPUT", node.outputs)):
            for key, artifacts in groups.items():
                for artifact in artifacts:
                    name = f"a{artifact.id}"
                    nodes.setdefault(
                        name,
                        {
                            "id": name,
                            "label": f"{artifact.TYPE_NAME} #{artifact.id}",
                            "color": ARTIFACT_COLOR,
                            "shape": "circle",
                            "kind": f"{key}: {artifact.uri}",
                        },
                    )
                    edges.add((name, execution) if direction == "INPUT" else (execution, name))
    return list(nodes.values()), sorted(edges)


def build(run: RunView, charts: ChartSet) -> Section | None:
    nodes, edges = lineage_graph(run)
    if not edges:
        return None
    labels = {n["id"]: n["label"] for n in nodes}
    listed = [(labels[a], labels[b]) for a, b in edges]
    chart_id = charts.add(graph_chart(nodes, edges, step=40))
    return Section(
        "lineage",
        "Lineage",
        "section_lineage.html",
        {"chart": chart_id, "edges": listed, "count": sum(1 for n in nodes if n["shape"] == "circle")},
    )

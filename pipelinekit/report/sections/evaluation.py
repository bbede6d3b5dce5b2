"""The Evaluator's metrics, overall and per slice, against their thresholds, and the verdicts:
the model blessing with its reason, and the InfraValidator's."""

from __future__ import annotations

from itertools import groupby

from pipelinekit.report.charts import ChartSet, metric_chart
from pipelinekit.report.readers import read_eval_config, read_metrics
from pipelinekit.report.run_view import RunView
from pipelinekit.report.sections import Section
from pipelinekit.report.summaries import summarize_metrics, thresholds_from_eval_config


def build(run: RunView, charts: ChartSet) -> Section | None:
    evaluations = []
    for node, _, artifact in run.artifacts("ModelEvaluation"):
        rows = summarize_metrics(read_metrics(artifact))
        thresholds = thresholds_from_eval_config(read_eval_config(artifact))
        metrics = []
        values = sorted((r for r in rows if not r["is_diff"]), key=lambda r: r["metric"])
        for metric, same in groupby(values, key=lambda r: r["metric"]):
            group = list(same)
            metrics.append(
                {
                    "name": metric,
                    "rows": group,
                    "threshold": thresholds.get(metric),
                    "chart": charts.add(metric_chart(metric, group, thresholds.get(metric))),
                }
            )
        changes = [r for r in rows if r["is_diff"]]
        blessings = [_verdict(a) for a in node.outputs.get("blessing", [])]
        evaluations.append(
            {"node": node.node_id, "metrics": metrics, "changes": changes, "blessings": blessings, "thresholds": thresholds}
        )
    infra = [(node.node_id, _verdict(a)) for node, _, a in run.artifacts("InfraBlessing")]
    if not evaluations and not infra:
        return None
    return Section(
        "evaluation", "Evaluation and verdicts", "section_evaluation.html", {"evaluations": evaluations, "infra": infra}
    )


def _verdict(artifact) -> dict:  # type: ignore[no-untyped-def]
    custom = artifact.custom_properties
    blessed = custom.get("blessed")
    return {
        "blessed": bool(blessed) if blessed is not None else None,
        "reason": str(custom.get("reason", "")),
        "uri": artifact.uri,
        "baseline": custom.get("baseline_model", ""),
    }

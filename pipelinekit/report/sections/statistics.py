"""Data statistics of every ExampleStatistics artifact of the run (StatisticsGen's, and Transform's
pre- and post-transform statistics): per feature and split, counts, missing values, numbers or top
values, and a chart comparing the splits."""

from __future__ import annotations

from itertools import groupby

from pipelinekit.report.charts import ChartSet, feature_chart
from pipelinekit.report.readers import read_statistics
from pipelinekit.report.run_view import RunView
from pipelinekit.report.sections import Section
from pipelinekit.report.summaries import summarize_statistics


def build(run: RunView, charts: ChartSet) -> Section | None:
    groups = []
    for node, key, artifact in run.artifacts("ExampleStatistics"):
        rows = summarize_statistics(read_statistics(artifact))
        if not rows:
            continue
        features = []
        for name, same in groupby(rows, key=lambda row: row.name):
            splits = list(same)
            features.append({"name": name, "rows": splits, "chart": charts.add(feature_chart(splits))})
        groups.append({"title": f"{node.node_id}.{key}", "artifact": artifact, "features": features})
    if not groups:
        return None
    return Section("statistics", "Data statistics", "section_statistics.html", {"groups": groups})

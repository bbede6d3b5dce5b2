"""ExampleDiff's paired-example skew: per node and split pair, how the examples matched on their
identifiers, the features whose values differ between matched pairs, and the confusion counts."""

from __future__ import annotations

from typing import Any

from pipelinekit.errors import MetadataError
from pipelinekit.report.charts import ChartSet
from pipelinekit.report.readers import read_example_diff, split_pair_folders
from pipelinekit.report.run_view import RunView
from pipelinekit.report.sections import Section
from pipelinekit.report.summaries import summarize_confusion, summarize_feature_skew, summarize_match_stats


def build(run: RunView, charts: ChartSet) -> Section | None:
    groups = []
    for node, key, artifact in run.artifacts("ExamplesDiff"):
        folders = split_pair_folders(artifact)
        groups.append(
            {
                "title": f"{node.node_id}.{key}",
                "uri": artifact.uri,
                "pairs": [_pair(name, folder) for name, folder in folders.items()],
                "error": "" if folders else f"no SplitPair-<test>_<base> folders in {artifact.uri}; was the artifact moved?",
            }
        )
    if not groups:
        return None
    return Section("example_diff", "Example diff (paired skew)", "section_example_diff.html", {"groups": groups})


def _pair(name: str, folder: str) -> dict[str, Any]:
    """One split pair's values, or its error: an unreadable pair does not hide the others."""
    try:
        records = read_example_diff(folder)
    except MetadataError as error:
        return {"name": name, "error": str(error)}
    skewed, equal = summarize_feature_skew(records.skew)
    return {
        "name": name,
        "error": "",
        "match": summarize_match_stats(records.match),
        "skewed": skewed,
        "equal": equal,
        "confusion": summarize_confusion(records.confusion),
    }

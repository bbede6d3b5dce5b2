"""The Tuner's trials (``tuner_results.json``) and the best hyperparameters it chose."""

from __future__ import annotations

import json
import os

from pipelinekit.report.charts import ChartSet, trials_chart
from pipelinekit.report.readers import read_json
from pipelinekit.report.run_view import RunView
from pipelinekit.report.sections import Section

TUNER_RESULTS_FILE = "tuner_results.json"
BEST_HYPERPARAMETERS_FILE = "best_hyperparameters.txt"


def build(run: RunView, charts: ChartSet) -> Section | None:
    tuners = []
    for node, _, artifact in run.artifacts("TunerResults"):
        path = os.path.join(artifact.uri, TUNER_RESULTS_FILE)
        if not os.path.exists(path):
            continue
        trials = [t for t in read_json(path, "Tuner results") if isinstance(t, dict)]
        best = _best(node.outputs.get("best_hyperparameters", []))
        keys = sorted({k for t in trials for k in t} - {"trial_id", "score"})
        tuners.append(
            {
                "node": node.node_id,
                "trials": trials,
                "columns": keys,
                "best": best,
                "chart": charts.add(trials_chart(trials)) if trials else None,
            }
        )
    if not tuners:
        return None
    return Section("tuner", "Tuner trials", "section_tuner.html", {"tuners": tuners})


def _best(artifacts: list) -> str:
    for artifact in artifacts:
        path = os.path.join(artifact.uri, BEST_HYPERPARAMETERS_FILE)
        if os.path.exists(path):
            config = read_json(path, "best hyperparameters")
            return json.dumps(config.get("values", config) if isinstance(config, dict) else config, sort_keys=True)
    return ""

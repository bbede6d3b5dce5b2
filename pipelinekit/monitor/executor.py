"""ModelMonitor executor: one window of :mod:`pipelinekit.monitor`, its files copied into the outputs."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil

from pipelinekit.components.util.tfdv_io import ANOMALIES_FILE, STATS_FILE, load_stats, schema_file
from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.types.standard import ExampleAnomalies, ExampleStatistics, Schema

__all__ = ["run_model_monitor"]


def run_model_monitor(
    context: ExecutionContext,
    statistics: ExampleStatistics,
    schema: Schema,
    served_statistics: ExampleStatistics,
    anomalies: ExampleAnomalies,
    policy_file: str,
    split: str = "train",
) -> None:
    from pipelinekit.monitor.config import Baseline, load_config
    from pipelinekit.monitor.window import run_window

    config = load_config(policy_file)
    baseline = Baseline(os.path.join(statistics.split_uri(split), STATS_FILE), schema_file(schema.uri))
    load_stats(baseline.statistics)  # a missing split fails here, naming the file
    report = run_window(dataclasses.replace(config, baselines={"*": baseline, **config.baselines}))
    window = os.path.join(config.state_dir, "windows", str(report.window))
    splits, blessed = [], {}
    for version in report.versions:
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", version)
        source = os.path.join(window, name)
        if not os.path.isdir(source):
            continue  # no baseline: only counted
        shutil.copy(
            os.path.join(source, "statistics", "Split-served", STATS_FILE), _file(served_statistics.split_uri(name), STATS_FILE)
        )
        for kind, split_name in (("served", name), ("skew", f"{name}-skew")):
            shutil.copy(
                os.path.join(source, "anomalies", f"Split-{kind}", ANOMALIES_FILE),
                _file(anomalies.split_uri(split_name), ANOMALIES_FILE),
            )
            blessed[split_name] = int(not report.drifted.get(version) and not report.versions[version].get("schema_anomalies"))
        splits.append(name)
    served_statistics.splits = splits
    anomalies.splits = [s for name in splits for s in (name, f"{name}-skew")]
    anomalies.set_custom_property("blessed", blessed)
    anomalies.set_custom_property("report", json.dumps(report.to_json(), sort_keys=True))
    context.logger.info("window %d: %d requests, %d actions", report.window, report.requests, len(report.actions))


def _file(folder: str, name: str) -> str:
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, name)

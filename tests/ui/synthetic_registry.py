"""Registry and monitor histories for the models and monitoring pages, written as pipelines and the
monitor write them: pushes through tests/registry/registry_records.py's ``record_run``, windows and
actions through the monitor's own MonitorRecorder."""

from __future__ import annotations

import json
import os
import sys

sys.path.append(os.path.join(os.path.dirname(__file__), os.pardir, "registry"))

DRIFT_ACTION_REASON = "rule 'drift': drift_ratio of wine/2 is 1.5, above 1.0, for 1 window(s)"


def record_pushes(folder: str) -> tuple[object, str]:
    """Two pushes of ``penguin`` (the second not blessed) and ``production`` on the first, in
    ``folder/metadata.sqlite``; returns the Registry and the serving base folder."""
    from registry_records import RunSpec, record_run

    from pipelinekit.registry import Registry

    registry = Registry.open_new(os.path.join(folder, "metadata.sqlite"))
    base, runs = os.path.join(folder, "serving", "penguin"), os.path.join(folder, "runs")
    record_run(registry.store, runs, base, RunSpec("run-1", 1001, span=1, fingerprint="fp-span-1"))
    record_run(registry.store, runs, base, RunSpec("run-2", 1002, span=2, fingerprint="fp-span-2", blessed=0))
    registry.move_alias("penguin", "production", 1001, "first release")
    return registry, base


def record_windows(folder: str) -> object:
    """Three windows of ``wine`` over versions wine/1 (steady) and wine/2 (drifting, drift_ratio
    0.5 per window), and one action, in ``folder/metadata.sqlite``; returns the recorder's store."""
    from pipelinekit.monitor.lineage import MonitorRecorder

    recorder = MonitorRecorder(os.path.join(folder, "metadata.sqlite"), "wine")
    for window in (1, 2, 3):
        for version, drift in (("wine/1", 0.1), ("wine/2", 0.5 * window)):
            measures = {"requests": 100.0 * window, "drift_ratio": drift, "skew_ratio": drift / 2, "accuracy": 0.9 - 0.1 * window}
            where = os.path.join(folder, "windows", str(window), version.replace("/", "_"))
            recorder.window(f"wine:{window}:{version}", version, os.path.join(folder, "baseline", "stats"),
                            os.path.join(folder, "schema"), f"{where}/statistics", f"{where}/anomalies",
                            {"metrics": json.dumps(measures, sort_keys=True)})  # fmt: skip
    action = {"rule": "drift", "version": "wine/2", "action": "alert", "reason": DRIFT_ACTION_REASON, "outcome": "alerted"}
    recorder.action("wine:3:drift:wine/2", action)
    return recorder.store

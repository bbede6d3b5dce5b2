"""One monitoring window over real request logs: statistics, drift and skew per version, lineage,
corrupt files, resume after a kill, two monitors at once."""

from __future__ import annotations

import glob
import gzip
import os

import numpy as np
import pytest
from monitor_helpers import log_classifications, policy, trained_model, wine, write_baseline

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Logs of version 1 (the training distribution, 600 requests) and version 2 (alcohol and
    color intensity shifted, 300 requests), and the training baseline."""
    root = tmp_path_factory.mktemp("served")
    frame, target = wine()
    model = trained_model(frame, target)
    rng = np.random.default_rng(7)
    stats, schema = write_baseline(str(root / "baseline"), frame.sample(400, replace=True, random_state=1))
    same = frame.sample(600, replace=True, random_state=2).reset_index(drop=True)
    drifted = frame.sample(300, replace=True, random_state=3).reset_index(drop=True)
    drifted["alcohol"] += 1.5
    drifted["color_intensity"] *= 1.8
    logs = str(root / "logs")
    log_classifications(
        logs, "wine", "wine", 1, same, model.predict_proba(same.to_numpy()), [f"a{i}" for i in range(600)], max_records=200
    )
    log_classifications(
        logs, "wine", "wine", 2, drifted, model.predict_proba(drifted.to_numpy()), [f"b{i}" for i in range(300)], max_records=100
    )
    del rng
    return root, stats, schema


def _config(root, stats, schema, name="policy.yaml", state="state"):
    from pipelinekit.monitor.config import load_config

    return load_config(
        policy(
            str(root / name),
            f"""
model: wine
log_dir: logs
state_dir: {state}
baselines:
  "*": {{statistics: {stats}, schema: {schema}}}
rules:
  - {{name: drift, metric: skew_features, above: 0, min_requests: 50, action: alert}}
""",
        )
    )


def test_an_unchanged_version_passes_and_a_drifted_one_is_flagged_with_lineage(served):
    from pipelinekit.monitor.lineage import CONTEXT_TYPE, MonitorRecorder
    from pipelinekit.monitor.window import run_window

    root, stats, schema = served
    config = _config(root, stats, schema)
    report = run_window(config)
    assert report.requests == 900 and report.files == 6 and not report.skipped_files
    assert report.versions["wine/1"]["requests"] == 600
    assert report.versions["wine/1"]["skew_features"] == 0
    assert report.versions["wine/2"]["skew_features"] >= 2
    assert {"alcohol", "color_intensity"} <= set(report.drifted["wine/2"])
    assert [(a["version"], a["outcome"]) for a in report.actions] == [("wine/2", "alerted")]
    # statistics equal to TFDV's own on the same examples
    import tensorflow_data_validation as tfdv

    written = tfdv.load_stats_binary(glob.glob(f"{config.state_dir}/windows/1/wine_1/statistics/Split-served/*.pb")[0])
    assert written.datasets[0].num_examples == 600
    # ML Metadata: the window's anomalies, tied to the baseline statistics and schema
    recorder = MonitorRecorder(config.metadata, "wine")
    windows = recorder.executions("MonitorWindow")
    assert sorted(e.properties["version"] for e in windows) == ["wine/1", "wine/2"]
    execution = next(e for e in windows if e.properties["version"] == "wine/2")
    inputs = recorder.store.artifacts_of_execution(execution.id, "INPUT")
    outputs = recorder.store.artifacts_of_execution(execution.id, "OUTPUT")
    assert inputs["baseline_statistics"][0].uri == stats and inputs["schema"][0].uri == schema
    assert outputs["anomalies"][0].TYPE_NAME == "ExampleAnomalies"
    assert [e.properties["who"] for e in recorder.executions("MonitorAction")] == ["monitor"]
    assert CONTEXT_TYPE == "ModelMonitor"
    # nothing new: an empty window, nothing counted twice
    again = run_window(config)
    assert again.requests == 0 and again.files == 0


def test_corrupt_and_half_written_files_are_skipped_and_counted(served, tmp_path):
    from pipelinekit.monitor.window import run_window

    root, stats, schema = served
    logs = tmp_path / "logs"
    os.symlink(root / "baseline", tmp_path / "baseline")
    good = sorted(glob.glob(f"{root}/logs/wine/prediction_logs/*/part-*.gz"))
    day = os.path.basename(os.path.dirname(good[0]))
    folder = logs / "wine" / "prediction_logs" / day
    folder.mkdir(parents=True)
    data = open(good[0], "rb").read()
    (folder / "part-000001-1-1.tfrecord.gz").write_bytes(data)
    (folder / "part-000002-1-2.tfrecord.gz").write_bytes(data[: len(data) // 2])  # cut short
    (folder / "part-000003-1-3.tfrecord.gz").write_bytes(gzip.compress(b"not a tfrecord at all"))
    (folder / ".part-000004-1-4.tfrecord.gz.partial").write_bytes(data)  # still being written
    report = run_window(_config(tmp_path, stats, schema))
    assert report.files == 3 and report.requests == 200
    assert sorted(os.path.basename(p) for p in report.skipped_files) == [
        "part-000002-1-2.tfrecord.gz",
        "part-000003-1-3.tfrecord.gz",
    ]


def test_a_monitor_killed_mid_window_resumes_without_counting_twice(served, tmp_path, monkeypatch):
    from pipelinekit.monitor import window as window_module
    from pipelinekit.monitor.lineage import MonitorRecorder
    from pipelinekit.monitor.window import run_window

    root, stats, schema = served
    config = _config(root, stats, schema, "killed.yaml", str(tmp_path / "state"))

    def killed(self):
        raise KeyboardInterrupt("killed before the checkpoint")

    monkeypatch.setattr(window_module._Window, "_close", killed)
    with pytest.raises(KeyboardInterrupt):
        run_window(config, max_files=3)
    monkeypatch.undo()
    redone = run_window(config, max_files=3)
    assert redone.window == 1 and redone.requests == 600  # the same window, the same files
    rest = run_window(config)
    assert rest.window == 2 and rest.requests == 300
    recorder = MonitorRecorder(config.metadata, "wine")
    assert len(recorder.executions("MonitorWindow")) == 2  # recorded once, not again on the redo
    assert len(recorder.executions("MonitorAction")) == 1


def test_two_monitors_on_one_state_folder_are_refused(served, tmp_path):
    from pipelinekit.monitor.errors import MonitorBusyError
    from pipelinekit.monitor.state import open_state

    with open_state(str(tmp_path)):
        with pytest.raises(MonitorBusyError, match="another monitor is using the state folder"):
            with open_state(str(tmp_path)):
                pass


def test_the_cli_runs_a_window_from_another_folder_and_prints_json(served, tmp_path, monkeypatch, capsys):
    import json

    from pipelinekit.cli import main

    root, stats, schema = served
    _config(root, stats, schema, "cli.yaml", str(tmp_path / "cli-state"))
    monkeypatch.chdir(tmp_path)  # paths in the policy are relative to its folder, not to here
    assert main(["monitor", str(root / "cli.yaml"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["requests"] == 900 and report["versions"]["wine/2"]["skew_features"] >= 2
    assert os.path.isfile(tmp_path / "cli-state" / "monitor.prom")
    assert "pipelinekit_monitor_value" in open(tmp_path / "cli-state" / "monitor.prom").read()
    (tmp_path / "bad.yaml").write_text("model: wine\n")
    assert main(["monitor", "bad.yaml"]) != 0
    assert "field log_dir: is required" in capsys.readouterr().err


def test_two_monitors_sharing_one_metadata_store_each_record_their_windows(served, tmp_path):
    """Each state folder has its own id in the window keys: a second monitor of the same model,
    with its own folder and the same store, is not taken as having recorded the first one's windows."""
    from pipelinekit.monitor.config import load_config
    from pipelinekit.monitor.lineage import MonitorRecorder
    from pipelinekit.monitor.window import run_window

    root, stats, schema = served
    shared = tmp_path / "shared.sqlite"
    for name in ("first", "second"):
        text = (
            f"model: wine\nlog_dir: {root / 'logs'}\nstate_dir: {tmp_path / name}\nmetadata: {shared}\n"
            f'baselines:\n  "*": {{statistics: {stats}, schema: {schema}}}\n'
        )
        report = run_window(load_config(policy(str(tmp_path / f"{name}.yaml"), text)))
        assert report.window == 1 and report.requests == 900
    windows = MonitorRecorder(str(shared), "wine").executions("MonitorWindow")
    assert sorted(e.properties["version"] for e in windows) == ["wine/1", "wine/1", "wine/2", "wine/2"]
    assert len({e.properties["window_key"] for e in windows}) == 4

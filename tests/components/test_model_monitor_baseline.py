"""The monitor finds a served penguin version's baseline through ML Metadata lineage (the shared
model run's store): StatisticsGen's train statistics, the Trainer's schema and the Evaluator's
prediction statistics, recorded as the window's inputs; a policy file's baseline still wins, and a
version without lineage is named with what to do."""

from __future__ import annotations

import glob
import logging
import os
import shutil

import pytest
from model_fixtures import shared_model_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return shared_model_run(str(tmp_path_factory.getbasetemp() / "model_run"))


@pytest.fixture(scope="module")
def served(run, tmp_path_factory):
    """The eval split served by the pushed version (Predict, serving_default) and by an unknown
    version 7, logged as the server logs them."""
    import tensorflow as tf

    root = tmp_path_factory.mktemp("monitor_baseline")
    files = sorted(glob.glob(os.path.join(run.output("CsvExampleGen", "examples").split_uri("eval"), "*")))
    examples = [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]
    number = int(run.output("Pusher", "pushed_model").custom_properties["pushed_version"])
    serve = tf.saved_model.load(run.output("Trainer", "model").serving_model_dir).signatures["serving_default"]
    answers = serve(examples=tf.constant(examples))["probabilities"].numpy()
    _log_predict(str(root / "logs"), [("penguin", number, examples, answers), ("penguin", 7, examples[:20], answers[:20])])
    return root, number, len(examples)


def _store_copy(run, root, name: str) -> str:
    """A copy of the pipeline's store for one monitor (the monitor records its windows there)."""
    return shutil.copy(os.path.join(run.root, "metadata.sqlite"), str(root / f"{name}.sqlite"))


def _log_predict(log_dir: str, answered: list) -> None:
    """One Predict request per example, answered by ``(served model, version)`` with its probabilities."""
    import tensorflow as tf
    from prometheus_client import CollectorRegistry
    from tensorflow_serving.apis import predict_pb2

    from pipelinekit.serving.metrics import RequestLogMetrics
    from pipelinekit.serving.request_id import request_id
    from pipelinekit.serving.request_log import RequestLog

    log = RequestLog(log_dir, 1.0, RequestLogMetrics(CollectorRegistry()), max_queue=100_000, max_records=10_000)
    for served, version, examples, answers in answered:
        for index, (example, probabilities) in enumerate(zip(examples, answers)):
            request = predict_pb2.PredictRequest()
            request.model_spec.name = "penguin"
            request.inputs["examples"].CopyFrom(tf.make_tensor_proto([example], dtype=tf.string))
            response = predict_pb2.PredictResponse()
            response.model_spec.name, response.model_spec.version.value = served, version
            response.outputs["probabilities"].CopyFrom(tf.make_tensor_proto(probabilities.reshape(1, -1)))
            token = request_id.set(f"{version}-{index}")
            try:
                log.predict("penguin", request, response)
            finally:
                request_id.reset(token)
    log.close()


def _policy(root, store: str, name: str, extra: str = "") -> str:
    path = str(root / f"{name}.yaml")
    with open(path, "w") as handle:
        handle.write(f"model: penguin\nlog_dir: logs\nstate_dir: {name}\nmetadata: {store}\n{extra}")
    return path


def _window_inputs(store: str, version: str) -> tuple[dict, dict]:
    """The inputs (artifact ids by key) and properties of the newest MonitorWindow of ``version``."""
    from pipelinekit.monitor.lineage import MonitorRecorder

    recorder = MonitorRecorder(store, "penguin")
    window = max((e for e in recorder.executions("MonitorWindow") if e.properties["version"] == version), key=lambda e: e.id)
    inputs = recorder.store.artifacts_of_execution(window.id, "INPUT")
    return {key: [a.id for a in artifacts] for key, artifacts in inputs.items()}, window.properties


def test_a_version_without_a_configured_baseline_gets_the_one_its_lineage_gives(run, served, caplog):
    from pipelinekit.monitor.config import load_config
    from pipelinekit.monitor.window import run_window

    root, number, count = served
    store = _store_copy(run, root, "lineage")
    with caplog.at_level(logging.WARNING):
        report = run_window(load_config(_policy(root, store, "lineage")))
    version = f"penguin/{number}"
    values = report.versions[version]
    assert values["requests"] == count
    assert values["prediction_drift"] < 1e-3  # the answers the Evaluator measured on the same data (up to rounding)
    assert {"skew_ratio", "drift_ratio", "schema_anomalies"} <= set(values)
    inputs, properties = _window_inputs(store, version)
    assert inputs["baseline_statistics"] == [run.output("StatisticsGen", "statistics").id]
    assert inputs["schema"] == [run.output("SchemaGen", "schema").id]  # the one the Trainer used
    assert inputs["baseline_predictions"] == [run.output("Evaluator", "evaluation").id]
    assert inputs["pushed_model"] == [run.output("Pusher", "pushed_model").id]
    assert properties["baseline_origin"] == "lineage"
    # a version the store never pushed: only counted, and the warning says what is missing and what to do
    assert report.versions["penguin/7"] == {"requests": 20.0}
    [message] = [r.getMessage() for r in caplog.records if "penguin/7" in r.getMessage()]
    assert "pushed_version 7" in message and store in message and "baselines: {'penguin/7'" in message


def test_a_baseline_in_the_policy_file_wins_over_lineage(run, served):
    from pipelinekit.monitor.config import load_config
    from pipelinekit.monitor.window import run_window

    root, number, _ = served
    store = _store_copy(run, root, "given")
    statistics = os.path.join(run.output("StatisticsGen", "statistics").split_uri("eval"), "FeatureStats.pb")
    schema = os.path.join(run.output("SchemaGen", "schema").uri, "schema.pbtxt")
    policy = _policy(root, store, "given", f"baselines: {{penguin: {{statistics: {statistics}, schema: {schema}}}}}\n")
    report = run_window(load_config(policy))
    version = f"penguin/{number}"
    assert "prediction_drift" not in report.versions[version]  # the policy's baseline has no predictions
    assert report.versions[version]["skew_ratio"] == 0.0  # served data is the eval split: no skew against it
    assert "skew_ratio" in report.versions["penguin/7"]  # the policy's baseline covers every version of penguin
    inputs, properties = _window_inputs(store, version)
    assert properties["baseline_origin"] == "config" and "baseline_predictions" not in inputs
    assert inputs["schema"] == [run.output("SchemaGen", "schema").id]


def _lose(store: str, artifact_id: int) -> None:
    """Points one artifact of the store copy at a folder that does not exist (its files lost)."""
    from pipelinekit.monitor.lineage import MonitorRecorder

    raw = MonitorRecorder(store, "penguin").store.raw
    [artifact] = raw.get_artifacts_by_id([artifact_id])
    artifact.uri = artifact.uri + "-lost"
    raw.put_artifacts([artifact])


@pytest.mark.parametrize(
    ("lost", "measured", "said"),
    [
        (("Evaluator", "evaluation"), True, "has no Evaluator statistics of model"),
        (("StatisticsGen", "statistics"), False, "lacks StatisticsGen statistics with a 'train' split"),
    ],
)
def test_a_version_whose_lineage_lacks_a_part_is_named_with_what_is_missing(run, served, caplog, lost, measured, said):
    from pipelinekit.monitor.config import load_config
    from pipelinekit.monitor.window import run_window

    root, number, count = served
    store = _store_copy(run, root, f"lost_{lost[0]}")
    _lose(store, run.output(*lost).id)
    with caplog.at_level(logging.WARNING):
        report = run_window(load_config(_policy(root, store, f"lost_{lost[0]}")))
    version = f"penguin/{number}"
    values = report.versions[version]
    assert "prediction_drift" not in values
    assert ("skew_ratio" in values) is measured and values["requests"] == count
    [message] = [r.getMessage() for r in caplog.records if said in r.getMessage()]
    assert version in message and store in message and "by hand" in message

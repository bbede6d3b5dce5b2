"""ModelMonitor in a pipeline: the training statistics and schema from StatisticsGen and SchemaGen
are the baseline; the window's statistics and anomalies are its outputs in ML Metadata."""

from __future__ import annotations

import json
import os

import pytest
from monitor_helpers import examples, log_classifications, policy, trained_model, wine

pytestmark = pytest.mark.slow


def test_model_monitor_in_a_pipeline_flags_drift_against_the_pipelines_statistics(tmp_path, monkeypatch):
    import tensorflow as tf
    import tensorflow_data_validation as tfdv
    from pipelinekit.components import ImportExampleGen, SchemaGen, StatisticsGen

    from pipelinekit import LocalDagRunner, Pipeline
    from pipelinekit.monitor import ModelMonitor

    monkeypatch.setenv("PIPELINEKIT_DATA_PATH", "in_process")
    frame, target = wine()
    os.makedirs(tmp_path / "training")
    with tf.io.TFRecordWriter(str(tmp_path / "training" / "data.tfrecord.gz"), options="GZIP") as writer:
        for record in examples(frame.sample(400, replace=True, random_state=1)):
            writer.write(record)
    model = trained_model(frame, target)
    drifted = frame.sample(200, replace=True, random_state=2).reset_index(drop=True)
    drifted["proline"] *= 1.6
    log_classifications(
        str(tmp_path / "logs"), "wine", "wine", 3, drifted, model.predict_proba(drifted.to_numpy()), [f"q{i}" for i in range(200)]
    )
    policy_file = policy(str(tmp_path / "policy.yaml"), "model: wine\nlog_dir: logs\nstate_dir: state\n")

    example_gen = ImportExampleGen(input_base=str(tmp_path / "training"))
    statistics_gen = StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = SchemaGen(statistics=statistics_gen.outputs["statistics"])
    monitor = ModelMonitor(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"], policy_file=policy_file
    )
    result = LocalDagRunner().run(
        Pipeline("monitored", str(tmp_path / "pipeline"), [example_gen, statistics_gen, schema_gen, monitor])
    )
    anomalies = result.output("ModelMonitor", "anomalies")
    assert anomalies.splits == ["wine_3", "wine_3-skew"]
    assert anomalies.custom_properties["blessed"] == {"wine_3": 0, "wine_3-skew": 0}
    report = json.loads(anomalies.custom_properties["report"])
    assert report["requests"] == 200 and "proline" in report["drifted"]["wine/3"]
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    with open(os.path.join(anomalies.split_uri("wine_3-skew"), "SchemaDiff.pb"), "rb") as handle:
        skew = anomalies_pb2.Anomalies.FromString(handle.read())
    assert "proline" in {".".join(info.path.step) for info in skew.drift_skew_info}
    served = tfdv.load_stats_binary(
        os.path.join(result.output("ModelMonitor", "served_statistics").split_uri("wine_3"), "FeatureStats.pb")
    )
    assert served.datasets[0].num_examples == 200

"""Request logs: PredictionLog TFRecords that match what was answered, read by TFDV and ImportExampleGen."""

from __future__ import annotations

import datetime
import glob
import json
import os
import threading
import time
import urllib.request

import grpc
import pytest
import tensorflow as tf
from prometheus_client import CollectorRegistry
from routing_helpers import answered_y, build_models, metric_value, model_config, predict_request
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2, prediction_service_pb2_grpc, regression_pb2

from pipelinekit.serving.errors import ModelConfigError
from pipelinekit.serving.metrics import RequestLogMetrics
from pipelinekit.serving.request_log import RequestLog


def _read(pattern: str, message=None) -> list:
    records = []
    for path in sorted(glob.glob(pattern)):
        for data in tf.data.TFRecordDataset(path, compression_type="GZIP").as_numpy_iterator():
            records.append(message.FromString(data) if message else data)
    return records


def _regress_request(route: str, x: float) -> regression_pb2.RegressionRequest:
    request = regression_pb2.RegressionRequest()
    request.model_spec.name = route
    request.model_spec.signature_name = "regress_x_to_y"
    example = request.input.example_list.examples.add()
    example.features.feature["x"].float_list.value.append(x)
    return request


def test_logged_requests_match_the_answers_and_feed_tfdv_and_example_gen(tmp_path, start_server, monkeypatch):
    logs = str(tmp_path / "logs")
    routes = tmp_path / "routes.yaml"
    routes.write_text("routes:\n  - name: live\n    split: [{model: stable, weight: 1}, {model: canary, weight: 1}]\n"
                      "  - name: reg\n    split: [{model: stable}]\n")  # fmt: skip
    server = start_server(
        model_config(build_models(str(tmp_path / "models"))),
        route_config_file=str(routes),
        request_log_dir=logs,
    )
    stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(server.grpc_address))
    answered = {}
    for i in range(20):
        response = stub.Predict(predict_request("live", float(i)))
        answered[float(i)] = (response.model_spec.name, answered_y(response))
    for i in range(20, 25):  # REST predict: logged as the PredictRequest it stands for
        body = json.dumps({"instances": [[float(i)]]}).encode()
        with urllib.request.urlopen(urllib.request.Request(f"{server.rest_url}/v1/models/live:predict", body)) as reply:
            answer = json.loads(reply.read())
        answered[float(i)] = (answer["model_spec"]["name"], answer["predictions"][0][0])
    regressed = {}
    for i in range(30):
        response = stub.Regress(_regress_request("reg", float(i)))
        regressed[float(i)] = response.result.regressions[0].value
    server.stop(grace_s=1)  # completes the open files
    day = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d")

    predict_logs = _read(f"{logs}/live/prediction_logs/{day}/*.gz", prediction_log_pb2.PredictionLog)
    assert len(predict_logs) == 25
    for log in predict_logs:
        x = float(tf.make_ndarray(log.predict_log.request.inputs["x"]).ravel()[0])
        response = log.predict_log.response
        assert (response.model_spec.name, answered_y(response)) == answered[x]
        assert log.predict_log.request.model_spec.name == "live"
    regress_logs = _read(f"{logs}/reg/prediction_logs/{day}/*.gz", prediction_log_pb2.PredictionLog)
    assert len(regress_logs) == 30
    for log in regress_logs:
        x = log.regress_log.request.input.example_list.examples[0].features.feature["x"].float_list.value[0]
        assert log.regress_log.response.result.regressions[0].value == pytest.approx(regressed[x])
        assert log.regress_log.response.model_spec.name == "stable"
    assert not glob.glob(f"{logs}/**/.*partial", recursive=True)  # every file completed

    import tensorflow_data_validation as tfdv

    stats = tfdv.generate_statistics_from_tfrecord(data_location=f"{logs}/reg/examples/{day}/*.gz")
    [dataset] = stats.datasets
    assert dataset.num_examples == 30
    [feature] = [f for f in dataset.features if f.path.step == ["x"]]
    assert feature.num_stats.max == 29.0
    # Predict's dense float input x (gRPC tensors and REST instances): one tf.Example per row
    stats = tfdv.generate_statistics_from_tfrecord(data_location=f"{logs}/live/examples/{day}/*.gz")
    [dataset] = stats.datasets
    assert dataset.num_examples == 25
    [feature] = [f for f in dataset.features if f.path.step == ["x"]]
    assert (feature.num_stats.min, feature.num_stats.max) == (0.0, 24.0)

    from pipelinekit.components import ImportExampleGen

    from pipelinekit import LocalDagRunner, Pipeline
    from pipelinekit.tfx import proto

    monkeypatch.setenv("PIPELINEKIT_DATA_PATH", "in_process")
    node = ImportExampleGen(
        input_base=f"{logs}/reg/examples",
        input_config=proto.Input(splits=[proto.Input.Split(name="served", pattern="{YYYY}{MM}{DD}/*.gz")]),
    )
    result = LocalDagRunner().run(Pipeline("feedback", str(tmp_path / "pipeline"), [node]))
    examples = result.output("ImportExampleGen", "examples")
    today = datetime.datetime.now(datetime.UTC).date()
    assert examples.span == (today - datetime.date(1970, 1, 1)).days  # the day's logs are a span
    rows = [r for split in examples.splits for r in _read(os.path.join(examples.split_uri(split), "*"))]
    assert sorted(tf.train.Example.FromString(r).features.feature["x"].float_list.value[0] for r in rows) == [
        float(i) for i in range(30)
    ]


def test_sampling_and_a_full_queue_never_block(tmp_path):
    registry = CollectorRegistry()
    metrics = RequestLogMetrics(registry)
    sampled = RequestLog(str(tmp_path / "sampled"), 0.1, metrics)
    request, response = predict_request("m"), predict_pb2.PredictResponse()
    for _ in range(2000):
        sampled.predict("m", request, response)
    sampled.close()
    written = metric_value_of(registry, "m", "written")
    assert abs(written - 200) < 60  # binomial: sd 13.4
    assert len(_read(str(tmp_path / "sampled/m/prediction_logs/*/*.gz"))) == written

    release = threading.Event()
    full = RequestLog(str(tmp_path / "full"), 1.0, metrics, max_queue=4)

    def stuck():
        release.wait()
        return prediction_log_pb2.PredictionLog()

    start = time.perf_counter()
    for _ in range(100):
        full._submit("slow", stuck)
    elapsed = time.perf_counter() - start
    release.set()
    full.close()
    assert elapsed < 0.5  # never waited on the stuck writer
    assert metric_value_of(registry, "slow", "dropped") >= 95
    assert metric_value_of(registry, "slow", "written") + metric_value_of(registry, "slow", "dropped") == 100


def metric_value_of(registry: CollectorRegistry, model: str, outcome: str) -> float:
    from prometheus_client import generate_latest

    return metric_value(
        generate_latest(registry).decode(),
        "pipelinekit_request_log_records_total",
        model=model,
        outcome=outcome,
    )


def test_a_bad_sample_rate_is_refused(tmp_path):
    with pytest.raises(ModelConfigError, match="between 0 and 1"):
        RequestLog(str(tmp_path), 1.5, RequestLogMetrics(CollectorRegistry()))


def test_a_killed_writer_leaves_no_file_a_reader_picks_up(tmp_path):
    registry = CollectorRegistry()
    request, response = predict_request("m"), predict_pb2.PredictResponse()
    crashed = RequestLog(str(tmp_path), 1.0, RequestLogMetrics(registry))
    for _ in range(10):
        crashed.predict("m", request, response)
    wait = time.monotonic() + 10
    while metric_value_of(registry, "m", "written") < 10 and time.monotonic() < wait:
        time.sleep(0.01)
    # never closed, as after SIGKILL: only a hidden partial file exists
    assert glob.glob(f"{tmp_path}/m/prediction_logs/*/*.gz") == []
    assert len(glob.glob(f"{tmp_path}/m/prediction_logs/*/.*.partial")) == 1
    restarted = RequestLog(str(tmp_path), 1.0, RequestLogMetrics(CollectorRegistry()))
    restarted.predict("m", request, response)
    restarted.close()
    assert len(_read(f"{tmp_path}/m/prediction_logs/*/*.gz", prediction_log_pb2.PredictionLog)) == 1


def test_dense_predict_inputs_are_logged_as_one_example_per_row(tmp_path):
    import numpy as np

    from pipelinekit.serving.request_log import logged_examples

    log = prediction_log_pb2.PredictionLog()
    inputs = log.predict_log.request.inputs
    inputs["age"].CopyFrom(tf.make_tensor_proto(np.array([31, 45], np.int64)))
    inputs["size"].CopyFrom(tf.make_tensor_proto(np.array([[1.5, 2.0], [3.0, 4.5]], np.float32)))
    inputs["name"].CopyFrom(tf.make_tensor_proto(np.array([b"ada", b"bo"])))
    rows = [tf.train.Example.FromString(e).features.feature for e in logged_examples(log)]
    assert [list(r["age"].int64_list.value) for r in rows] == [[31], [45]]
    assert [list(r["size"].float_list.value) for r in rows] == [[1.5, 2.0], [3.0, 4.5]]
    assert [list(r["name"].bytes_list.value) for r in rows] == [[b"ada"], [b"bo"]]
    inputs["other"].CopyFrom(tf.make_tensor_proto(np.zeros([3, 1], np.float32)))  # no shared batch: no rows
    assert list(logged_examples(log)) == []

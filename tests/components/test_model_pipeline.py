"""The model components end to end on penguins.csv, through the data components, on Keras 3:
Trainer, Evaluator (with a worse candidate against a baseline), InfraValidator, Pusher and
BulkInferrer, and the pushed model served by ``pipelinekit serve``."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest
from model_fixtures import EVAL_STEPS, LABEL, TRAIN_STEPS, shared_model_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    model_run = shared_model_run(str(tmp_path_factory.getbasetemp() / "model_run"))
    expected = {"gated_pusher": "skipped"}  # under a Cond on the worse model's blessing
    failed = {n: r.error for n, r in model_run.result.nodes.items() if r.status != expected.get(n, "ran")}
    assert not failed, failed
    return model_run


def _examples(folder: str) -> list:
    import tensorflow as tf

    files = sorted(glob.glob(os.path.join(folder, "*")))
    return [tf.train.Example.FromString(r.numpy()) for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]


def _eval_examples(run) -> list:
    return _examples(run.output("CsvExampleGen", "examples").split_uri("eval"))


def _label(example) -> str:
    return example.features.feature[LABEL].bytes_list.value[0].decode()


def _direct_probabilities(model_dir: str, serialized: list[bytes]):
    import tensorflow as tf

    model = tf.saved_model.load(model_dir)
    return model.signatures["serving_default"](examples=tf.constant(serialized))["probabilities"].numpy()


def test_trained_model_beats_the_majority_class_by_a_wide_margin(run):
    import tensorflow_model_analysis as tfma

    labels = [_label(e) for e in _eval_examples(run)]
    majority = max(labels.count(x) for x in set(labels)) / len(labels)
    result = tfma.load_eval_result(run.output("Evaluator", "evaluation").uri)
    overall = dict(result.slicing_metrics)[()][""][""]
    accuracy = overall["sparse_categorical_accuracy"]["doubleValue"]
    assert overall["example_count"]["doubleValue"] == len(labels)
    assert accuracy >= majority + 0.3, (accuracy, majority)
    slices = {key for key, _ in result.slicing_metrics}
    assert (("island", "Biscoe"),) in slices


def test_run_fn_gets_every_fn_args_field(run):
    model = run.output("Trainer", "model")
    with open(os.path.join(run.output("Trainer", "model_run").uri, "fn_args.json")) as handle:
        fn_args = json.load(handle)
    examples = run.output("Transform", "transformed_examples")
    schema = run.output("SchemaGen", "schema")
    graph = run.output("Transform", "transform_graph")
    assert fn_args["train_files"] == [os.path.join(examples.split_uri("train"), "*")]
    assert fn_args["eval_files"] == [os.path.join(examples.split_uri("eval"), "*")]
    assert (fn_args["train_steps"], fn_args["eval_steps"]) == (TRAIN_STEPS, EVAL_STEPS)
    assert fn_args["schema_path"] == fn_args["schema_file"] == os.path.join(schema.uri, "schema.pbtxt")
    assert fn_args["transform_graph_path"] == fn_args["transform_output"] == graph.uri
    assert fn_args["serving_model_dir"].endswith("/model/Format-Serving")
    assert fn_args["model_run_dir"].endswith("/model_run")
    assert fn_args["custom_config"] == {"epochs": 3}
    assert fn_args["data_accessor"] == "DataAccessor"
    assert fn_args["working_dir"] is None and fn_args["hyperparameters"] is None and fn_args["base_model"] is None
    assert os.path.isfile(os.path.join(model.uri, "Format-Serving", "saved_model.pb"))
    assert glob.glob(os.path.join(run.output("Trainer", "model_run").uri, "**", "events.out.tfevents.*"), recursive=True)


def test_good_model_is_blessed_with_tfx_custom_properties(run):
    blessing = run.output("Evaluator", "blessing")
    model = run.output("Trainer", "model")
    assert os.listdir(blessing.uri) == ["BLESSED"]
    assert blessing.custom_properties["blessed"] == 1
    assert blessing.custom_properties["current_model"] == model.uri
    assert blessing.custom_properties["current_model_id"] == model.id
    assert "baseline_model" not in blessing.custom_properties


def test_worse_model_is_not_blessed_against_the_baseline_and_says_why(run):
    import tensorflow_model_analysis as tfma

    evaluation = tfma.load_eval_result(run.output("worse_evaluator", "evaluation").uri, model_name="candidate")
    examples = run.output("CsvExampleGen", "examples")
    total = sum(len(_examples(examples.split_uri(s))) for s in examples.splits)
    assert dict(evaluation.slicing_metrics)[()][""][""]["example_count"]["doubleValue"] == total  # both splits
    blessing = run.output("worse_evaluator", "blessing")
    assert os.listdir(blessing.uri) == ["NOT_BLESSED"]
    props = blessing.custom_properties
    assert props["blessed"] == 0
    assert props["current_model_id"] == run.output("worse_trainer", "model").id
    assert props["baseline_model_id"] == run.output("Trainer", "model").id
    assert props["baseline_model"] == run.output("Trainer", "model").uri
    assert "slice overall: sparse_categorical_accuracy change vs baseline" in props["reason"]
    assert "does not meet" in props["reason"]


def _prediction_statistics(run, node: str):
    from pipelinekit.components.util.tfdv_io import load_stats

    return load_stats(os.path.join(run.output(node, "evaluation").uri, "prediction_statistics", "FeatureStats.pb"))


def _feature_means(statistics) -> dict:
    [dataset] = statistics.datasets
    return {f.path.step[0]: f.num_stats.mean for f in dataset.features}


def test_evaluator_writes_its_prediction_distribution_as_the_monitor_measures_served_answers(run):
    """From TFMA's own predictions (no second model run), in the monitor's form of a Predict answer
    of the evaluated signature: equal to the monitor's statistics of the model's answers on the eval data."""
    from pipelinekit.monitor.predictions import Predictions
    from pipelinekit.monitor.statistics import prediction_statistics
    from pipelinekit.monitor.validation import Comparators
    from pipelinekit.monitor.window import _prediction_drift

    serialized = [e.SerializeToString() for e in _eval_examples(run)]
    answers = _direct_probabilities(run.output("Trainer", "model").serving_model_dir, serialized)
    served = prediction_statistics(Predictions(dicts=[{"probabilities": row.tolist()} for row in answers]))
    written = _prediction_statistics(run, "Evaluator")
    assert written.datasets[0].num_examples == served.datasets[0].num_examples == len(serialized)
    means, expected = _feature_means(written), _feature_means(served)
    assert set(means) == {"probabilities_max", "probabilities_argmax"} == set(expected)
    for name, mean in expected.items():
        assert means[name] == pytest.approx(mean, rel=1e-5), name
    # the same distribution, up to float rounding (TFMA runs the model in other batches): over the
    # comparator thresholds (0.1) by a factor of at most 1e-3
    assert _prediction_drift(served, written, Comparators()) < 1e-3
    # the worse model's distribution, on both splits it evaluated: less sure of its answers
    worse = _prediction_statistics(run, "worse_evaluator")
    examples = run.output("CsvExampleGen", "examples")
    assert worse.datasets[0].num_examples == sum(len(_examples(examples.split_uri(s))) for s in examples.splits)
    assert _feature_means(worse)["probabilities_max"] < means["probabilities_max"] - 0.1
    # TFX's layout otherwise: TFMA's own files beside the new folder, and TFMA reads them
    evaluation = run.output("Evaluator", "evaluation")
    assert {n for n in os.listdir(evaluation.uri) if not n.startswith(("metrics", "plots", "attributions", "validations"))} == {
        "eval_config.json",
        "prediction_statistics",
    }


def test_only_the_blessed_model_is_pushed(run):
    pushed = run.output("Pusher", "pushed_model")
    worse = run.output("worse_pusher", "pushed_model")
    versions = [n for n in os.listdir(run.serving_dir) if n.isdigit()]
    assert versions == [pushed.custom_properties["pushed_version"]]
    assert pushed.custom_properties["pushed"] == 1
    assert pushed.custom_properties["pushed_destination"] == os.path.join(run.serving_dir, versions[0])
    assert worse.custom_properties["pushed"] == 0 and "is not blessed" in worse.custom_properties["reason"]
    assert os.listdir(worse.uri) == []
    # InfraValidator made a warmed-up copy; that is what was pushed
    warmup = os.path.join(run.serving_dir, versions[0], "assets.extra", "tf_serving_warmup_requests")
    assert os.path.isfile(warmup) and os.path.isfile(os.path.join(pushed.uri, "saved_model.pb"))


def test_a_pusher_under_cond_on_a_not_blessed_verdict_is_skipped_with_the_reason(run):
    gated = run.result.nodes["gated_pusher"]
    assert gated.status == "skipped" and not gated.outputs
    assert gated.reason == "condition worse_evaluator.outputs['blessing'].future()[0].custom_property('blessed') == 1 is false"


def test_infra_validator_blesses_and_writes_warmup_requests(run):
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    blessing = run.output("InfraValidator", "blessing")
    assert sorted(os.listdir(blessing.uri)) == ["INFRA_BLESSED", "stamped_model"]
    assert blessing.custom_properties["blessed"] == 1 and blessing.custom_properties["has_model"] == 1
    records = tf.data.TFRecordDataset(os.path.join(blessing.uri, "stamped_model", "assets.extra", "tf_serving_warmup_requests"))
    logs = [prediction_log_pb2.PredictionLog.FromString(r.numpy()) for r in records]
    assert [log.WhichOneof("log_type") for log in logs] == ["predict_log", "classify_log"]
    assert len(logs[1].classify_log.request.input.example_list.examples) == 3


def test_bulk_inferrer_logs_match_the_models_direct_answers(run):
    import numpy as np
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    result = run.output("BulkInferrer", "inference_result")
    files = glob.glob(os.path.join(result.uri, "prediction_logs-*-of-*.gz"))
    logs = [
        prediction_log_pb2.PredictionLog.FromString(r.numpy()) for r in tf.data.TFRecordDataset(files, compression_type="GZIP")
    ]
    examples = run.output("CsvExampleGen", "examples")
    total = sum(len(_examples(examples.split_uri(s))) for s in examples.splits)
    assert len(logs) == total
    inputs = [log.predict_log.request.inputs["examples"].string_val[0] for log in logs]
    got = np.concatenate([tf.make_ndarray(log.predict_log.response.outputs["probabilities"]) for log in logs])
    expected = _direct_probabilities(run.output("Trainer", "model").serving_model_dir, inputs)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_bulk_inferrer_handler_reuses_the_loaded_model_in_this_process_only(run, monkeypatch):
    """The model the executor loads to check model_spec serves every RunInference of the pipeline
    (one per split), also through Beam's pickling; a handler unpickled where that model is not
    (another process, or after release) loads its own; the answers are the same."""
    import pickle

    import apache_beam as beam
    import numpy as np
    import tensorflow as tf
    from apache_beam.ml.inference.base import RunInference
    from apache_beam.testing.util import assert_that
    from pipelinekit.components.bulk_inferrer.inference import LoadedModel, SavedModelHandler

    path = run.output("Trainer", "model").serving_model_dir
    records = [e.SerializeToString() for e in _eval_examples(run)[:5]]
    loads = []
    real_load = tf.saved_model.load
    monkeypatch.setattr(tf.saved_model, "load", lambda *a, **k: loads.append(a) or real_load(*a, **k))
    loaded = LoadedModel(path, ["serve"], ["serving_default"])
    handler = SavedModelHandler(path, ["serve"], ["serving_default"], loaded)
    assert len(loads) == 1

    def outputs(logs):
        return sorted(tf.make_ndarray(log.predict_log.response.outputs["probabilities"]).tolist() for log in logs)

    expected = outputs(loaded.run(records))
    assert len(expected) == len(records) == 5

    def same_answers(logs):
        # within float32 rounding: RunInference batches the records its own way
        np.testing.assert_allclose(outputs(logs), expected, rtol=1e-6, atol=1e-7)

    with beam.Pipeline() as pipeline:
        for split in ("train", "eval"):
            logs = pipeline | f"Create[{split}]" >> beam.Create(records) | f"Infer[{split}]" >> RunInference(handler)
            assert_that(logs, same_answers, label=f"Check[{split}]")
    assert len(loads) == 1

    elsewhere = pickle.loads(pickle.dumps(handler))
    assert elsewhere.load_model() is loaded  # in this process: the loaded one
    handler.release()
    fresh = elsewhere.load_model()
    assert len(loads) == 2 and fresh is not loaded
    np.testing.assert_allclose(outputs(fresh.run(records)), expected, rtol=1e-6, atol=1e-7)


def test_bulk_inferrer_output_examples_carry_classify_columns(run):
    output = run.output("example_inferrer", "output_examples")
    assert output.splits == ["eval"] and os.listdir(output.uri) == ["Split-eval"]
    examples = _examples(output.split_uri("eval"))
    assert len(examples) == len(_eval_examples(run))
    first = examples[0].features.feature
    assert sorted(v.decode() for v in first["label"].bytes_list.value) == ["Adelie", "Chinstrap", "Gentoo"]
    assert abs(sum(first["score"].float_list.value) - 1.0) < 1e-4
    right = 0
    for example in examples:
        feature = example.features.feature
        scores = list(feature["score"].float_list.value)
        right += feature["label"].bytes_list.value[scores.index(max(scores))].decode() == _label(example)
    assert right / len(examples) > 0.8


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_pushed_model_answers_predict_and_classify_through_pipelinekit_serve(run):
    import grpc
    import numpy as np
    import tensorflow as tf
    from tensorflow_serving.apis import classification_pb2, predict_pb2, prediction_service_pb2_grpc

    from pipelinekit.serving import Client

    port = _free_port()
    command = [sys.executable, "-m", "pipelinekit", "serve", "--model_name=penguin", f"--model_base_path={run.serving_dir}"]
    server = subprocess.Popen([*command, f"--port={port}", "--rest_api_port=0"], stderr=subprocess.PIPE)
    try:
        with Client(f"127.0.0.1:{port}", "penguin", timeout_s=5) as client:
            client.wait_until_available(timeout_s=90)
        examples = _eval_examples(run)[:5]
        serialized = [e.SerializeToString() for e in examples]
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            predict = predict_pb2.PredictRequest()
            predict.model_spec.name = "penguin"
            predict.inputs["examples"].CopyFrom(tf.make_tensor_proto(serialized, dtype=tf.string))
            probabilities = tf.make_ndarray(stub.Predict(predict, timeout=10).outputs["probabilities"])
            classify = classification_pb2.ClassificationRequest()
            classify.model_spec.name = "penguin"
            classify.model_spec.signature_name = "classify"
            classify.input.example_list.examples.extend(examples)
            classes = stub.Classify(classify, timeout=10).result.classifications
        version_dir = glob.glob(os.path.join(run.serving_dir, "[0-9]*"))[0]
        np.testing.assert_allclose(probabilities, _direct_probabilities(version_dir, serialized), rtol=1e-5, atol=1e-6)
        for row, example in zip(classes, examples, strict=True):
            best = max(row.classes, key=lambda c: c.score)
            assert {c.label for c in row.classes} == {"Adelie", "Chinstrap", "Gentoo"}
            assert best.label == _label(example)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_second_run_is_fully_cached_and_pushes_nothing_new(run):
    from model_fixtures import model_pipeline

    from pipelinekit import LocalDagRunner

    before = sorted(os.listdir(run.serving_dir))
    started = time.perf_counter()
    again = LocalDagRunner().run(model_pipeline(run.root, run.csv_folder, run.serving_dir, run.module_file))
    statuses = {n: r.status for n, r in again.nodes.items()}
    assert statuses.pop("gated_pusher") == "skipped"
    assert set(statuses.values()) == {"cached"}, {n: r.reason for n, r in again.nodes.items()}
    assert sorted(os.listdir(run.serving_dir)) == before
    assert time.perf_counter() - started < 10


def test_pusher_waits_until_the_server_serves_the_new_version(run, tmp_path):
    from pipelinekit.components.pusher.executor import run_pusher

    from pipelinekit.dsl.context import ExecutionContext
    from pipelinekit.serving import Client, ModelServer, ServerOptions, single_model_config
    from pipelinekit.tfx import proto
    from pipelinekit.tfx.utils.proto_utils import proto_to_json
    from pipelinekit.types.standard import PushedModel

    base = str(tmp_path / "serving")
    shutil.copytree(run.serving_dir, base)
    server = ModelServer(
        ServerOptions(single_model_config("penguin", base), grpc_port=0, rest_port=None, poll_wait_seconds=0.2)
    ).start()
    try:
        destination = proto.PushDestination(filesystem=proto.PushDestination.Filesystem(base_directory=base))
        pushed = PushedModel(str(tmp_path / "pushed"))
        context = ExecutionContext("p", str(tmp_path), "Pusher", "run", 1, str(tmp_path))
        config = {"serving_address": server.grpc_address, "serving_model_name": "penguin", "serving_timeout_s": 60}
        run_pusher(context, pushed, proto_to_json(destination), model=run.output("worse_trainer", "model"), custom_config=config)
        with Client(server.grpc_address, "penguin", timeout_s=5) as client:
            states = {s.version: s.state for s in client.status()}
        assert states[int(pushed.pushed_version)] == "AVAILABLE"
    finally:
        server.stop(grace_s=0)

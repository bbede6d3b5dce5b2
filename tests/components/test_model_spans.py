"""Trainer and Tuner on several Examples artifacts (a Resolver's rolling span window), and a
parallel Tuner whose failing worker stops the others at once."""

from __future__ import annotations

import json
import os
import time

import pytest

from pipelinekit import (
    Channel,
    Examples,
    LocalDagRunner,
    OutputArtifact,
    Parameter,
    Pipeline,
    Resolver,
    SpanRangeStrategy,
    component,
)
from pipelinekit.proto import range_config_pb2

pytestmark = pytest.mark.slow

TRAIN_ROWS = {1: 3, 2: 5}  # train examples per span; eval has 2 per span

MODULE = """
import json
import os
import time


def _dataset(files):
    import tensorflow as tf

    spec = {"x": tf.io.FixedLenFeature([1], tf.float32), "y": tf.io.FixedLenFeature([1], tf.float32)}
    paths = [path for pattern in files for path in tf.io.gfile.glob(pattern)]
    records = tf.data.TFRecordDataset(paths, compression_type="GZIP")
    return records.map(lambda r: tf.io.parse_single_example(r, spec)).map(lambda f: (f["x"], f["y"]))


def _record(folder, name, fn_args, count):
    with open(os.path.join(folder, name), "w") as handle:
        json.dump({"train_files": fn_args.train_files, "eval_files": fn_args.eval_files, "train_rows": count}, handle)


def run_fn(fn_args):
    import tensorflow as tf

    os.makedirs(fn_args.model_run_dir, exist_ok=True)
    _record(fn_args.model_run_dir, "files.json", fn_args, sum(1 for _ in _dataset(fn_args.train_files)))
    module = tf.Module()
    module.w = tf.Variable(1.0)
    tf.saved_model.save(module, fn_args.serving_model_dir)


def tuner_fn(fn_args):
    import keras
    import keras_tuner

    from pipelinekit.tfx.components import TunerFnResult

    config = fn_args.custom_config
    worker = os.environ.get("KERASTUNER_TUNER_ID")
    if worker is None:
        _record(config["record_dir"], "tuner_files.json", fn_args, sum(1 for _ in _dataset(fn_args.train_files)))
    if worker is not None and worker == config.get("stall_worker"):
        time.sleep(300)  # a trial that would take long

    def crash(logs=None):
        print(f"worker {worker} crashes in its trial", flush=True)
        os._exit(7)  # as a worker killed for memory would

    def build(hp):
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(hp.Choice("units", [1, 2]))])
        model.compile(optimizer="sgd", loss="mse")
        return model

    tuner = keras_tuner.RandomSearch(
        build, max_trials=config.get("max_trials", 2), objective="val_loss", directory=fn_args.working_dir,
        project_name="spans", seed=1,
    )
    data = _dataset(fn_args.train_files).batch(2).repeat()
    fit_kwargs = {"x": data, "validation_data": data, "steps_per_epoch": 1, "validation_steps": 1, "epochs": 1, "verbose": 0}
    if worker is not None and worker == config.get("fail_worker"):
        fit_kwargs["callbacks"] = [keras.callbacks.LambdaCallback(on_train_begin=crash)]
    return TunerFnResult(tuner=tuner, fit_kwargs=fit_kwargs)
"""


@component
def span_gen(examples: OutputArtifact[Examples], span: Parameter[int]) -> None:
    """Examples of one span: train and eval splits of tf.Examples ``x``, ``y = 2x``."""
    import tensorflow as tf

    examples.span = span
    examples.splits = ["train", "eval"]
    for split, rows in (("train", TRAIN_ROWS[span]), ("eval", 2)):
        os.makedirs(examples.split_uri(split))
        with tf.io.TFRecordWriter(os.path.join(examples.split_uri(split), "data.gz"), options="GZIP") as writer:
            for row in range(rows):
                example = tf.train.Example()
                example.features.feature["x"].float_list.value.append(float(row))
                example.features.feature["y"].float_list.value.append(2.0 * row)
                writer.write(example.SerializeToString())


def _window_pipeline(root: str, module_file: str, span: int, record_dir: str) -> Pipeline:
    from pipelinekit.components import Trainer, Tuner

    from pipelinekit.tfx import proto

    window = Resolver(
        strategy_class=SpanRangeStrategy,
        config={"range_config": range_config_pb2.RangeConfig(rolling_range={"num_spans": 2})},
        examples=Channel(type=Examples, producer_component_id="span_gen", output_key="examples"),
    ).with_id("window")
    common = {
        "examples": window.outputs["examples"],
        "module_file": module_file,
        "train_args": proto.TrainArgs(num_steps=1),
        "eval_args": proto.EvalArgs(num_steps=1),
    }
    tuner = Tuner(**common, tune_args=proto.TuneArgs(num_parallel_trials=2), custom_config={"record_dir": record_dir})
    return Pipeline("spans", root, [span_gen(span=span), window, Trainer(**common), tuner])


@pytest.fixture(scope="module")
def module_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("span_module") / "span_module.py"
    path.write_text(MODULE)
    return str(path)


def test_trainer_and_tuner_read_every_span_a_rolling_window_gives(tmp_path, module_file):
    record_dir = tmp_path / "records"
    record_dir.mkdir()
    runs = [LocalDagRunner().run(_window_pipeline(str(tmp_path / "root"), module_file, span, str(record_dir))) for span in (1, 2)]
    for run in runs:
        assert run.succeeded, {n: (r.status, r.error) for n, r in run.nodes.items()}
    spans = [a.uri for a in runs[1].nodes["window"].outputs["examples"]]
    assert len(spans) == 2
    with open(os.path.join(runs[1].output("Trainer", "model_run").uri, "files.json")) as handle:
        trained = json.load(handle)
    with open(record_dir / "tuner_files.json") as handle:
        tuned = json.load(handle)  # the second run's: each run rewrites it
    for record in (trained, tuned):
        assert record["train_files"] == [os.path.join(uri, "Split-train", "*") for uri in spans]
        assert record["eval_files"] == [os.path.join(uri, "Split-eval", "*") for uri in spans]
        assert record["train_rows"] == TRAIN_ROWS[1] + TRAIN_ROWS[2]
    rows = json.load(open(os.path.join(runs[1].output("Tuner", "tuner_results").uri, "tuner_results.json")))
    assert len(rows) == 2


def test_a_failing_parallel_worker_stops_the_others_and_names_itself(tmp_path, module_file):
    from pipelinekit.components import Tuner

    from pipelinekit.tfx import proto

    gen = span_gen(span=1)
    tuner = Tuner(
        examples=gen.outputs["examples"],
        module_file=module_file,
        tune_args=proto.TuneArgs(num_parallel_trials=2),
        custom_config={"record_dir": str(tmp_path), "fail_worker": "tuner1", "stall_worker": "tuner0", "max_trials": 4},
    )
    started = time.monotonic()
    result = LocalDagRunner().run(Pipeline("failing_worker", str(tmp_path / "root"), [gen, tuner]))
    elapsed = time.monotonic() - started
    assert result.nodes["Tuner"].status == "failed"
    message = str(result.nodes["Tuner"].error)
    assert "tuner worker 1 of 2 (KERASTUNER_TUNER_ID=tuner1) exited with status" in message
    assert "while running trial" in message and "the other 1 worker(s) were stopped" in message
    assert "worker tuner1 crashes in its trial" in message and "status 7" in message
    assert elapsed < 120, f"the node took {elapsed:.0f} s: it waited for the stalled worker"

"""SequenceExample payloads: TFX's ``ImportExampleGen(payload_format=FORMAT_TF_SEQUENCE_EXAMPLE)``
on generated sessions (context features and feature lists), then StatisticsGen (both paths),
SchemaGen, ExampleValidator, Transform and the Trainer (``fn_args.data_accessor``), each reading
them through tfx-bsl's TFSequenceExampleRecord."""

from __future__ import annotations

import os
import random

import pytest

from pipelinekit import tfx
from pipelinekit.errors import RunError

PAGES = [b"home", b"search", b"item", b"cart"]
SEQUENCE = "##SEQUENCE##"

MODULE = """
import tensorflow as tf
import tensorflow_transform as tft


def preprocessing_fn(inputs):
    dwell = inputs["##SEQUENCE##.dwell"]  # a RaggedTensor [batch, steps, 1]
    return {
        "age_xf": tft.scale_to_z_score(tf.cast(tf.squeeze(inputs["age"], axis=1), tf.float32)),
        "steps_xf": tf.cast(dwell.row_lengths(axis=1), tf.int64),
        "dwell_total_xf": tf.reduce_sum(tf.reduce_sum(dwell, axis=2), axis=1),
        "label": tf.squeeze(inputs["label"], axis=1),
        "clicks_xf": inputs["##SEQUENCE##.clicks"],  # stays ragged: written as TFT's values + row lengths
    }
"""

TRAINER_MODULE = """
import json
import os

import keras
import tensorflow as tf
import tensorflow_data_validation as tfdv
from tfx_bsl.public import tfxio


def _features(features, label):
    dwell = features["##SEQUENCE##.dwell"]  # a RaggedTensor [batch, steps, 1], named as in Transform
    steps = tf.cast(dwell.row_lengths(axis=1), tf.float32)
    total = tf.reduce_sum(tf.reduce_sum(dwell, axis=2), axis=1)
    age = tf.cast(tf.reshape(features["age"], [-1]), tf.float32)
    return tf.stack([age / 80.0, steps / 7.0, total / 420.0], axis=1), tf.reshape(label, [-1])


def _dataset(fn_args, files, schema, epochs=None):
    options = tfxio.TensorFlowDatasetOptions(batch_size=16, label_key="label", num_epochs=epochs, shuffle=epochs is None)
    return fn_args.data_accessor.tf_dataset_factory(files, options, schema).map(_features)


def run_fn(fn_args):
    schema = tfdv.load_schema_text(fn_args.schema_path)
    seen = [(float(x[1]), float(x[2])) for batch, _ in _dataset(fn_args, fn_args.train_files, schema, epochs=1) for x in batch.numpy()]
    try:
        fn_args.data_accessor.record_batch_factory(fn_args.train_files, tfxio.RecordBatchesOptions(batch_size=16), schema)
        refused = None
    except Exception as error:
        refused = str(error)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True))
    model.fit(
        _dataset(fn_args, fn_args.train_files, schema),
        steps_per_epoch=fn_args.train_steps,
        validation_data=_dataset(fn_args, fn_args.eval_files, schema),
        validation_steps=fn_args.eval_steps,
        verbose=0,
    )
    model.export(fn_args.serving_model_dir)
    os.makedirs(fn_args.model_run_dir, exist_ok=True)
    with open(os.path.join(fn_args.model_run_dir, "seen.json"), "w") as handle:
        json.dump({"seen": seen, "record_batches": refused}, handle)
"""


def _session(rng: random.Random, index: int) -> bytes:
    """One user session: context (user, age, label) and one entry per step in three feature lists."""
    import tensorflow as tf

    example = tf.train.SequenceExample()
    context = example.context.feature
    context["user"].bytes_list.value.append(f"user-{index % 41}".encode())
    context["age"].int64_list.value.append(rng.randint(18, 80))
    context["label"].int64_list.value.append(rng.randint(0, 1))
    lists = example.feature_lists.feature_list
    for _ in range(rng.randint(1, 7)):
        lists["page"].feature.add().bytes_list.value.append(rng.choice(PAGES))
        lists["clicks"].feature.add().int64_list.value.append(rng.randint(0, 5))
        lists["dwell"].feature.add().float_list.value.append(round(rng.uniform(0.5, 60.0), 2))
    return example.SerializeToString()


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    """300 sessions in a gzipped and a plain TFRecord file (ImportExampleGen reads both)."""
    import tensorflow as tf

    rng = random.Random(7)
    records = [_session(rng, i) for i in range(300)]
    folder = tmp_path_factory.mktemp("sessions")
    with tf.io.TFRecordWriter(str(folder / "part-0.tfrecord.gz"), options="GZIP") as writer:
        for record in records[:150]:
            writer.write(record)
    with tf.io.TFRecordWriter(str(folder / "part-1.tfrecord")) as writer:
        for record in records[150:]:
            writer.write(record)
    return str(folder), records


def _pipeline(root, data, module_file=None, trainer_module=None):
    example_gen = tfx.components.ImportExampleGen(
        input_base=data, payload_format=tfx.proto.PayloadFormat.FORMAT_TF_SEQUENCE_EXAMPLE
    )
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"], infer_feature_shape=True)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    nodes = [example_gen, statistics_gen, schema_gen, example_validator]
    if module_file:
        nodes.append(
            tfx.components.Transform(
                examples=example_gen.outputs["examples"], schema=schema_gen.outputs["schema"], module_file=module_file
            )
        )
    if trainer_module:
        nodes.append(
            tfx.components.Trainer(
                module_file=trainer_module,
                examples=example_gen.outputs["examples"],
                schema=schema_gen.outputs["schema"],
                train_args=tfx.proto.TrainArgs(num_steps=1),
                eval_args=tfx.proto.EvalArgs(num_steps=1),
            )
        )
    return tfx.dsl.Pipeline(
        pipeline_name="sequence",
        pipeline_root=str(root),
        components=nodes,
        enable_cache=True,
        beam_pipeline_args=["--direct_num_workers=1"],
    )


def _records(examples, split):
    import tensorflow as tf

    files = sorted(os.path.join(examples.split_uri(split), name) for name in os.listdir(examples.split_uri(split)))
    return [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]


def _stats(result):
    import tensorflow_data_validation as tfdv

    artifact = result.output("StatisticsGen", "statistics")
    found = {}
    for split in ("train", "eval"):
        stats = tfdv.load_stats_binary(os.path.join(artifact.split_uri(split), "FeatureStats.pb")).datasets[0]
        found[split] = (stats.num_examples, {tuple(f.path.step): f for f in stats.features})
    return found


@pytest.fixture(scope="module")
def validated(tmp_path_factory, sessions):
    """ImportExampleGen -> StatisticsGen -> SchemaGen -> ExampleValidator on the sessions, in
    process; the pipeline root, so that a run adding Transform reuses these nodes from the cache."""
    root = tmp_path_factory.mktemp("sequence") / "root"
    return root, tfx.orchestration.LocalDagRunner().run(_pipeline(root, sessions[0]))


def test_sequence_examples_reach_statistics_schema_and_validation(sessions, validated):
    import tensorflow as tf
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2

    _, records = sessions
    _, result = validated

    examples = result.output("ImportExampleGen", "examples")
    assert examples.custom_properties["payload_format"] == "FORMAT_TF_SEQUENCE_EXAMPLE"
    written = {split: _records(examples, split) for split in ("train", "eval")}
    assert len(written["train"]) > len(written["eval"]) > 0
    canonical = {tf.train.SequenceExample.FromString(r).SerializeToString(deterministic=True) for r in records}
    assert set(written["train"]) | set(written["eval"]) == canonical  # every session once, feature lists kept
    first = tf.train.SequenceExample.FromString(written["train"][0])
    assert len(first.feature_lists.feature_list["dwell"].feature) == len(first.feature_lists.feature_list["page"].feature) >= 1

    stats = _stats(result)
    assert stats["train"][0] + stats["eval"][0] == len(records)
    train = stats["train"][1]
    assert {("age",), ("user",), ("label",), (SEQUENCE,), (SEQUENCE, "page"), (SEQUENCE, "dwell"), (SEQUENCE, "clicks")} <= set(
        train
    )
    steps = sum(len(tf.train.SequenceExample.FromString(r).feature_lists.feature_list["dwell"].feature) for r in written["train"])
    dwell = train[(SEQUENCE, "dwell")].num_stats
    assert dwell.common_stats.num_non_missing == len(written["train"])
    assert dwell.common_stats.tot_num_values == steps and 0.5 <= dwell.min < dwell.max <= 60.0
    assert {b.encode() for b in (v.value for v in train[(SEQUENCE, "page")].string_stats.top_values)} == set(PAGES)

    schema = tfdv.load_schema_text(os.path.join(result.output("SchemaGen", "schema").uri, "schema.pbtxt"))
    sequence = tfdv.get_feature(schema, SEQUENCE)
    assert sequence.type == schema_pb2.STRUCT
    assert {f.name: f.type for f in sequence.struct_domain.feature} == {
        "page": schema_pb2.BYTES,
        "clicks": schema_pb2.INT,
        "dwell": schema_pb2.FLOAT,
    }
    anomalies = result.output("ExampleValidator", "anomalies")
    for split in ("train", "eval"):
        with open(os.path.join(anomalies.split_uri(split), "SchemaDiff.pb"), "rb") as handle:
            assert not anomalies_pb2.Anomalies.FromString(handle.read()).anomaly_info, split


@pytest.mark.slow
def test_transform_and_the_beam_path_read_sequence_examples(tmp_path, sessions, validated, monkeypatch):
    """Transform gets context features and RaggedTensors of the feature lists; StatisticsGen on
    Beam (tfx-bsl's TFSequenceExampleRecord.BeamSource) gives the statistics of the in-process path."""
    import tensorflow as tf

    data, _ = sessions
    root, first = validated
    module = tmp_path / "sessions_transform.py"
    module.write_text(MODULE)
    result = tfx.orchestration.LocalDagRunner().run(_pipeline(root, data, str(module)))
    assert result.nodes["StatisticsGen"].status == "cached" and result.nodes["Transform"].status == "ran"
    written = {split: _records(result.output("ImportExampleGen", "examples"), split) for split in ("train", "eval")}
    transformed = result.output("Transform", "transformed_examples")
    rows = [tf.train.Example.FromString(r) for r in _records(transformed, "train")]
    assert len(rows) == len(written["train"])
    by_steps = sorted(
        len(tf.train.SequenceExample.FromString(r).feature_lists.feature_list["dwell"].feature) for r in written["train"]
    )
    assert sorted(r.features.feature["steps_xf"].int64_list.value[0] for r in rows) == by_steps
    for row in rows:
        steps = row.features.feature["steps_xf"].int64_list.value[0]
        assert list(row.features.feature["clicks_xf$row_lengths_1"].int64_list.value) == [1] * steps
        assert len(row.features.feature["clicks_xf$ragged_values"].int64_list.value) == steps
    assert abs(sum(r.features.feature["age_xf"].float_list.value[0] for r in rows)) < 1e-3  # z-scores of the train split

    stats = _stats(first)
    monkeypatch.setenv("PIPELINEKIT_DATA_PATH", "beam")
    on_beam = tfx.orchestration.LocalDagRunner().run(_pipeline(tmp_path / "beam_root", data))
    assert on_beam.succeeded
    beam_stats = _stats(on_beam)
    for split in ("train", "eval"):
        assert beam_stats[split][0] == stats[split][0]
        assert set(beam_stats[split][1]) == set(stats[split][1])
        ours, theirs = stats[split][1][(SEQUENCE, "dwell")].num_stats, beam_stats[split][1][(SEQUENCE, "dwell")].num_stats
        assert ours.common_stats.tot_num_values == theirs.common_stats.tot_num_values
        assert abs(ours.mean - theirs.mean) < 1e-4


def test_a_partition_feature_is_read_from_the_context(sessions):
    """``partition_feature_name`` keeps one user's sessions in one split, as TFX reads it from
    a SequenceExample's context; a feature list's name is not a context feature."""
    import tensorflow as tf
    from pipelinekit.components.example_gen.splitting import Splitter
    from pipelinekit.components.util.errors import InputDataError

    config = tfx.proto.SplitConfig(
        splits=[
            tfx.proto.SplitConfig.Split(name="train", hash_buckets=3),
            tfx.proto.SplitConfig.Split(name="eval", hash_buckets=1),
        ],
        partition_feature_name="user",
    )
    splitter = Splitter.from_config(config, sequence=True)
    split_of_user: dict[bytes, set[int]] = {}
    for record in sessions[1]:
        user = tf.train.SequenceExample.FromString(record).context.feature["user"].bytes_list.value[0]
        split_of_user.setdefault(user, set()).add(splitter(record))
    assert all(len(splits) == 1 for splits in split_of_user.values())
    assert {next(iter(s)) for s in split_of_user.values()} == {0, 1}
    config.partition_feature_name = "page"
    with pytest.raises(InputDataError, match="Feature name `page` does not exist"):
        Splitter.from_config(config, sequence=True)(sessions[1][0])


def test_records_that_are_not_sequence_examples_are_refused_and_the_trainer_reads_them(tmp_path, sessions, validated):
    """Records that do not parse as tf.SequenceExample fail ImportExampleGen naming the file; the
    Trainer's ``tf_dataset_factory`` gives every training session (context and feature lists)
    through TFSequenceExampleRecord, and ``record_batch_factory``, which tfx-bsl lacks for
    SequenceExamples, fails naming the reader."""
    import json

    import tensorflow as tf

    data, _ = sessions
    bad = tmp_path / "bad"
    bad.mkdir()
    with tf.io.TFRecordWriter(str(bad / "x.tfrecord")) as writer:
        writer.write(b"\xff\xff\xff not a proto")
    with pytest.raises(
        RunError, match=r"x.tfrecord are not tf.SequenceExamples: .*reads TFRecords of serialized tf.SequenceExample"
    ):
        tfx.orchestration.LocalDagRunner().run(_pipeline(tmp_path / "bad_root", str(bad)))

    root, _ = validated
    trainer = tmp_path / "trainer_module.py"
    trainer.write_text(TRAINER_MODULE)
    result = tfx.orchestration.LocalDagRunner().run(_pipeline(root, data, trainer_module=str(trainer)))
    assert result.nodes["ImportExampleGen"].status == "cached" and result.nodes["Trainer"].status == "ran"
    with open(os.path.join(result.output("Trainer", "model_run").uri, "seen.json")) as handle:
        record = json.load(handle)
    expected = []
    for raw in _records(result.output("ImportExampleGen", "examples"), "train"):
        lists = tf.train.SequenceExample.FromString(raw).feature_lists.feature_list
        dwell = [f.float_list.value[0] for f in lists["dwell"].feature]
        expected.append((len(dwell) / 7.0, sum(dwell) / 420.0))
    flat = [value for pair in sorted(map(tuple, record["seen"])) for value in pair]
    assert flat == pytest.approx([value for pair in sorted(expected) for value in pair], abs=1e-4)
    assert "TFSequenceExampleRecord does not implement RecordBatches" in record["record_batches"]
    assert os.path.isfile(os.path.join(result.output("Trainer", "model").uri, "Format-Serving", "saved_model.pb"))

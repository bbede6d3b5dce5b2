"""Parquet payloads: TFX's ``ImportExampleGen(payload_format=FORMAT_PARQUET)`` on palmerpenguins,
then StatisticsGen (both paths), SchemaGen and Transform (through tfx-bsl's ParquetTFXIO, giving
what the same rows as tf.Examples give), and a Trainer on Transform's transformed tf.Examples;
a Trainer reading the Parquet examples themselves fails naming what tfx-bsl lacks."""

from __future__ import annotations

import os

import pytest
from data_fixtures import penguins_frame

from pipelinekit import tfx
from pipelinekit.orchestration import LocalDagRunner

pytestmark = pytest.mark.slow


@pytest.fixture
def parquet_data(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = penguins_frame()
    folder = tmp_path / "data"
    folder.mkdir()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    half = table.num_rows // 2
    pq.write_table(table.slice(0, half), folder / "a.parquet")
    pq.write_table(table.slice(half), folder / "b.parquet")
    return str(folder), frame


def _pipeline(root, data, module_file=None):
    example_gen = tfx.components.ImportExampleGen(input_base=data, payload_format=tfx.proto.PayloadFormat.FORMAT_PARQUET)
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"], infer_feature_shape=False)
    nodes = [example_gen, statistics_gen, schema_gen]
    if module_file:
        nodes.append(
            tfx.components.Transform(
                examples=example_gen.outputs["examples"],
                schema=schema_gen.outputs["schema"],
                module_file=module_file,
                custom_config={"top_k": 2},
            )
        )
    return tfx.dsl.Pipeline(
        pipeline_name="parquet",
        pipeline_root=str(root),
        components=nodes,
        enable_cache=True,
        beam_pipeline_args=["--direct_num_workers=1"],
    )


def _stats(result):
    import tensorflow_data_validation as tfdv

    artifact = result.output("StatisticsGen", "statistics")
    out = {}
    for split in ("train", "eval"):
        stats = tfdv.load_stats_binary(os.path.join(artifact.split_uri(split), "FeatureStats.pb")).datasets[0]
        out[split] = (stats.num_examples, {f.path.step[0]: f for f in stats.features})
    return out


def test_parquet_rows_reach_statistics_and_schema_on_both_paths(tmp_path, parquet_data, penguin_module, monkeypatch):
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import schema_pb2

    data, frame = parquet_data
    result = LocalDagRunner().run(_pipeline(tmp_path / "root", data, penguin_module))
    examples = result.output("ImportExampleGen", "examples")
    assert examples.custom_properties["payload_format"] == "FORMAT_PARQUET" and examples.splits == ["train", "eval"]
    stats = _stats(result)
    assert stats["train"][0] + stats["eval"][0] == len(frame) and stats["train"][0] > stats["eval"][0] > 0
    missing = sum(stats[s][1]["bill_length_mm"].num_stats.common_stats.num_missing for s in stats)
    assert missing == frame["bill_length_mm"].isna().sum()
    assert stats["train"][1]["species"].string_stats.unique == 3
    schema = tfdv.load_schema_text(os.path.join(result.output("SchemaGen", "schema").uri, "schema.pbtxt"))
    assert {f.name for f in schema.feature} == set(frame.columns)
    assert missing > 0 and tfdv.get_feature(schema, "species").type == schema_pb2.BYTES
    transformed = result.output("Transform", "transformed_examples")
    assert transformed.custom_properties["payload_format"] == "FORMAT_TF_EXAMPLE"
    assert sum(len(_examples(transformed, split)) for split in ("train", "eval")) == len(frame)

    monkeypatch.setenv("PIPELINEKIT_DATA_PATH", "beam")  # StatisticsGen through ParquetTFXIO on Beam
    on_beam = LocalDagRunner().run(_pipeline(tmp_path / "beam_root", data))
    beam_stats = _stats(on_beam)
    for split in ("train", "eval"):
        assert beam_stats[split][0] == stats[split][0]
        assert beam_stats[split][1]["body_mass_g"].num_stats.mean == pytest.approx(stats[split][1]["body_mass_g"].num_stats.mean)
    again = LocalDagRunner().run(_pipeline(tmp_path / "beam_root", data))
    assert {again.nodes[n].status for n in ("ImportExampleGen", "StatisticsGen", "SchemaGen")} == {"cached"}


def test_a_file_that_is_not_parquet_fails_naming_it(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.parquet").write_text("a,b\n1,2\n")
    result = LocalDagRunner().run(_pipeline(tmp_path / "root", str(tmp_path / "data")))
    node = result.nodes["ImportExampleGen"]
    assert node.status == "failed" and "x.parquet is not a readable Parquet file" in str(node.error)


def _records(artifact, split):
    import tensorflow as tf

    folder = artifact.split_uri(split)
    files = sorted(os.path.join(folder, name) for name in os.listdir(folder))
    return [record.numpy() for record in tf.data.TFRecordDataset(files, compression_type="GZIP")]


def _examples(artifact, split):
    """The split's tf.Examples as dicts of feature name to list of values."""
    import tensorflow as tf

    rows = []
    for record in _records(artifact, split):
        features = tf.train.Example.FromString(record).features.feature
        rows.append({k: list(getattr(v, v.WhichOneof("kind")).value) for k, v in features.items() if v.WhichOneof("kind")})
    return rows


def _as_sorted(rows):
    return sorted(
        rows,
        key=lambda row: sorted((k, [round(float(x), 4) if not isinstance(x, bytes) else x for x in v]) for k, v in row.items()),
    )


@pytest.fixture(scope="module")
def same_rows(tmp_path_factory):
    """The penguins as Parquet and as CSV (read as tf.Examples), the same rows in the same
    train/eval input splits, so both formats reach Transform with the same data."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from data_fixtures import penguins_csv_text

    base = tmp_path_factory.mktemp("same_rows")
    frame = penguins_frame()
    for whole in ("flipper_length_mm", "body_mass_g"):  # whole numbers, as the CSV reader types them
        frame[whole] = frame[whole].astype("Int64")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    lines = penguins_csv_text().splitlines()
    for split, rows in (("train", [i for i in range(table.num_rows) if i % 3]), ("eval", list(range(0, table.num_rows, 3)))):
        for kind in ("parquet", "csv"):
            (base / kind / split).mkdir(parents=True)
        pq.write_table(table.take(rows), base / "parquet" / split / "part.parquet")
        (base / "csv" / split / "part.csv").write_text("\n".join([lines[0]] + [lines[1 + i] for i in rows]) + "\n")
    return base


def _transform_pipeline(root, data, module_file, parquet, trainers=()):
    from model_fixtures import penguin_trainer

    splits = tfx.proto.Input(
        splits=[tfx.proto.Input.Split(name="train", pattern="train/*"), tfx.proto.Input.Split(name="eval", pattern="eval/*")]
    )
    if parquet:
        example_gen = tfx.components.ImportExampleGen(
            input_base=data, input_config=splits, payload_format=tfx.proto.PayloadFormat.FORMAT_PARQUET
        )
    else:
        example_gen = tfx.components.CsvExampleGen(input_base=data, input_config=splits)
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"])
    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"], schema=schema_gen.outputs["schema"], module_file=module_file
    )
    nodes = [example_gen, statistics_gen, schema_gen, transform]
    for node_id, examples, trainer_module in trainers:
        source = transform.outputs["transformed_examples"] if examples == "transformed" else example_gen.outputs["examples"]
        trainer = penguin_trainer(
            source, transform.outputs["transform_graph"], schema_gen.outputs["schema"], trainer_module, {"epochs": 3}
        )
        nodes.append(trainer.with_id(node_id))
    return tfx.dsl.Pipeline(
        pipeline_name="parquet_transform",
        pipeline_root=str(root),
        components=nodes,
        beam_pipeline_args=["--direct_num_workers=1"],
    )


PARQUET_TRAINER = """
def run_fn(fn_args):
    from tfx_bsl.public import tfxio

    fn_args.data_accessor.tf_dataset_factory(fn_args.train_files, tfxio.TensorFlowDatasetOptions(batch_size=8), None)
"""


# long (run by .ci/run's long stage): Transform and a Trainer on Parquet take 36 s, and the default
# suite ran 19 min 52 s once on 2 cores; the Parquet rows' statistics and schema stay in the default run
@pytest.mark.long
def test_transform_reads_parquet_as_the_same_rows_as_tf_examples_and_a_trainer_learns_from_it(tmp_path, same_rows):
    """Transform on the Parquet rows gives the schema, statistics and transformed tf.Examples that
    the same rows as tf.Examples give; a Trainer trains on those transformed tf.Examples, and one
    that asks the data accessor for the Parquet examples themselves fails naming ParquetTFXIO."""
    import tensorflow as tf
    import tensorflow_data_validation as tfdv
    from model_fixtures import copy_module_file

    module_file = copy_module_file(str(tmp_path / "module"))
    direct = tmp_path / "parquet_trainer.py"
    direct.write_text(PARQUET_TRAINER)
    trainers = [("Trainer", "transformed", module_file), ("parquet_trainer", "raw", str(direct))]
    parquet = LocalDagRunner().run(_transform_pipeline(tmp_path / "pq", str(same_rows / "parquet"), module_file, True, trainers))
    records = LocalDagRunner().run(_transform_pipeline(tmp_path / "csv", str(same_rows / "csv"), module_file, False))
    assert parquet.nodes["Transform"].status == records.nodes["Transform"].status == "ran"

    schemas = [
        tfdv.load_schema_text(os.path.join(r.output("SchemaGen", "schema").uri, "schema.pbtxt")) for r in (parquet, records)
    ]
    assert [{f.name: f.type for f in s.feature} for s in schemas][0] == {f.name: f.type for f in schemas[1].feature}
    for output in ("pre_transform_stats", "post_transform_stats"):
        ours, theirs = (
            {
                f.path.step[0]: f
                for f in tfdv.load_stats_binary(os.path.join(r.output("Transform", output).uri, "FeatureStats.pb"))
                .datasets[0]
                .features
            }
            for r in (parquet, records)
        )
        assert set(ours) == set(theirs) and len(ours) >= 5, output
        for name, feature in ours.items():
            # the counts of values, not of missing rows: a CSV's empty cell becomes an empty value
            # list in a tf.Example (not missing), a Parquet null a missing one
            if feature.HasField("num_stats"):
                mine, other = feature.num_stats, theirs[name].num_stats
                assert (mine.mean, mine.min, mine.max) == pytest.approx((other.mean, other.min, other.max), rel=1e-5, abs=1e-6), (
                    output,
                    name,
                )
            else:
                mine, other = feature.string_stats, theirs[name].string_stats
                assert mine.unique == other.unique, (output, name)
            assert mine.common_stats.tot_num_values == other.common_stats.tot_num_values, (output, name)
    for split in ("train", "eval"):
        ours, theirs = (_as_sorted(_examples(r.output("Transform", "transformed_examples"), split)) for r in (parquet, records))
        assert len(ours) == len(theirs) > 50
        for mine, other in zip(ours, theirs, strict=True):
            # the two readers cut Beam's batches differently, and TFT merges per-batch float32 means
            # and variances: z-scores move by float32 ulps, under 1e-5 on these features (the
            # analysis in tests/flink/flink_helpers.py); 1e-4 still catches any other row or value
            assert mine.keys() == other.keys() and all(mine[k] == pytest.approx(other[k], rel=1e-4, abs=1e-4) for k in mine)

    trained = parquet.nodes["Trainer"]
    assert trained.status == "ran", trained.error
    model = parquet.output("Trainer", "model")
    assert os.path.isfile(os.path.join(model.uri, "Format-Serving", "saved_model.pb"))
    raw_eval = list(_records(records.output("CsvExampleGen", "examples"), "eval"))
    labels = [tf.train.Example.FromString(r).features.feature["species"].bytes_list.value[0] for r in raw_eval]
    served = tf.saved_model.load(model.uri + "/Format-Serving").signatures["serving_default"]
    predicted = served(examples=tf.constant(raw_eval))["probabilities"].numpy().argmax(axis=1)
    import tensorflow_transform as tft  # after the runs: importing it first would give the Trainer Keras 2

    vocabulary = tft.TFTransformOutput(parquet.output("Transform", "transform_graph").uri).vocabulary_by_name("species")
    accuracy = sum(vocabulary[p] == label for p, label in zip(predicted, labels, strict=True)) / len(labels)
    majority = max(labels.count(x) for x in set(labels)) / len(labels)
    assert accuracy >= majority + 0.2, (accuracy, majority)
    refused = parquet.nodes["parquet_trainer"]
    assert refused.status == "failed"
    assert "cannot read the FORMAT_PARQUET examples" in str(refused.error)
    assert "ParquetTFXIO does not implement TensorFlowDataset" in str(refused.error)


def test_parquet_batches_take_the_schema_types_and_a_column_that_cannot_fails_naming_it():
    """Transform casts ParquetTFXIO's batches to the reader's Arrow schema (the TFMD schema's
    types, which TFT checks each batch against): float64 to float32, string to bytes, a column
    the files lack as nulls; a column that cannot take its type fails naming the column."""
    import pyarrow as pa
    from pipelinekit.components.util.errors import InputDataError
    from pipelinekit.components.util.examples_io import cast_to_arrow_schema

    schema = pa.schema(
        [("x", pa.large_list(pa.float32())), ("s", pa.large_list(pa.large_binary())), ("m", pa.large_list(pa.int64()))]
    )
    batch = pa.RecordBatch.from_pydict({"s": pa.array([["a"], None]), "x": pa.array([[1.5], None], pa.list_(pa.float64()))})
    cast = cast_to_arrow_schema(batch, schema)
    assert cast.schema == schema and cast.column(0).to_pylist() == [[1.5], None] and cast.column(1).to_pylist() == [[b"a"], None]
    assert cast.column(2).null_count == 2
    with pytest.raises(InputDataError, match=r"column 'x' \(list<item: string>\) cannot be read as large_list<item: float>"):
        cast_to_arrow_schema(pa.RecordBatch.from_pydict({"x": pa.array([["abc"]])}), schema)

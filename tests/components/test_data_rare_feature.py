"""A nearly empty column (one non-empty cell in the whole CSV) is a schema feature, and every
split is decoded with the schema, so each schema feature reaches ``preprocessing_fn``, the
Trainer's input functions and the Evaluator's checks, also from the split that holds none of
its values."""

from __future__ import annotations

import os
import random

import pytest
from data_fixtures import TFT_MODULE_START, read_examples

from pipelinekit import LocalDagRunner, Pipeline
from pipelinekit.types.standard import Examples

RARE_MODULE = TFT_MODULE_START + """

def preprocessing_fn(inputs):
    return {
        "x_xf": tft.scale_to_0_1(_dense(inputs["x"], 0.0)),
        "rare_a_xf": _dense(inputs["rare_a"], -1.0),
        "rare_b_xf": _dense(inputs["rare_b"], b"none"),
    }
"""


def rare_csv(folder) -> None:
    """300 rows; ``rare_a`` and ``rare_b`` have one non-empty cell each. ExampleGen's hash split
    puts rare_a's row in train and rare_b's in eval (checked below), so each split lacks one."""
    rng = random.Random(7)
    rows = ["x,label,rare_a,rare_b"]
    for i in range(300):
        rows.append(f"{rng.random():.4f},{i % 2},{'7.5' if i == 10 else ''},{'ok' if i == 11 else ''}")
    folder.mkdir()
    (folder / "data.csv").write_text("\n".join(rows) + "\n")


def values(example, key):
    feature = example.features.feature[key]
    kind = feature.WhichOneof("kind")
    return list(getattr(feature, kind).value) if kind else []


@pytest.fixture(scope="module")
def rare_run(tmp_path_factory):
    from pipelinekit.components import CsvExampleGen, SchemaGen, StatisticsGen, Transform

    folder = tmp_path_factory.mktemp("rare")
    rare_csv(folder / "data")
    (folder / "module.py").write_text(RARE_MODULE)
    results = {}
    for data_path in ("in_process", "beam"):  # ExampleGen and StatisticsGen have both; Transform runs on Beam
        os.environ["PIPELINEKIT_DATA_PATH"] = data_path
        try:
            gen = CsvExampleGen(input_base=str(folder / "data"))
            stats = StatisticsGen(examples=gen.outputs["examples"])
            schema = SchemaGen(statistics=stats.outputs["statistics"])
            transform = Transform(
                examples=gen.outputs["examples"], schema=schema.outputs["schema"], module_file=str(folder / "module.py")
            )
            results[data_path] = LocalDagRunner().run(Pipeline("rare", str(folder / data_path), [transform]))
        finally:
            del os.environ["PIPELINEKIT_DATA_PATH"]
    return results


@pytest.mark.parametrize("data_path", ["in_process", "beam"])
def test_each_split_lacks_one_column_yet_both_are_live_schema_features(rare_run, data_path):
    from pipelinekit.components.util.tfdv_io import load_schema

    result = rare_run[data_path]
    examples = result.output("CsvExampleGen", "examples")
    holding = {
        key: [s for s in examples.splits if any(values(e, key) for e in read_examples(examples.split_uri(s)))]
        for key in ("rare_a", "rare_b")
    }
    assert holding == {"rare_a": ["train"], "rare_b": ["eval"]}
    schema = load_schema(os.path.join(result.output("SchemaGen", "schema").uri, "schema.pbtxt"))
    features = {f.name: f for f in schema.feature}
    assert features["rare_a"].type == 3 and features["rare_b"].type == 1  # FLOAT, BYTES
    assert features["rare_a"].lifecycle_stage == features["rare_b"].lifecycle_stage == 0, "SchemaGen must not deprecate them"


@pytest.mark.parametrize("data_path", ["in_process", "beam"])
def test_preprocessing_fn_gets_every_schema_feature_in_every_split(rare_run, data_path):
    result = rare_run[data_path]
    assert result.nodes["Transform"].status == "ran", result.nodes["Transform"].error
    transformed = result.output("Transform", "transformed_examples")
    rows = {split: read_examples(transformed.split_uri(split)) for split in ("train", "eval")}
    assert sorted(v for e in rows["train"] for v in values(e, "rare_a_xf") if v != -1.0) == [7.5]
    assert all(values(e, "rare_a_xf") == [-1.0] for e in rows["eval"])
    assert all(values(e, "rare_b_xf") == [b"none"] for e in rows["train"])
    assert sorted(v for e in rows["eval"] for v in values(e, "rare_b_xf") if v != b"none") == [b"ok"]


def test_trainer_input_functions_decode_every_schema_feature(rare_run):
    import tensorflow as tf
    from tfx_bsl.public import tfxio

    from pipelinekit.tfx.components.trainer.fn_args_utils import data_accessor_for, read_schema

    result = rare_run["in_process"]
    examples = result.output("CsvExampleGen", "examples")
    schema = read_schema(result.output("SchemaGen", "schema"))
    accessor = data_accessor_for([examples])
    options = tfxio.TensorFlowDatasetOptions(batch_size=1000, shuffle=False, num_epochs=1)
    for split, empty in (("train", "rare_b"), ("eval", "rare_a")):
        [batch] = list(accessor.tf_dataset_factory(os.path.join(examples.split_uri(split), "*"), options, schema))
        assert {"x", "label", "rare_a", "rare_b"} <= set(batch)
        assert isinstance(batch[empty], tf.SparseTensor) and batch[empty].values.shape[0] == 0


@pytest.fixture
def split_without_a_feature(tmp_path):
    """An Examples artifact whose eval split's records have no ``rare`` key at all (as data from
    another source than a CSV may), and a schema that has it."""
    import tensorflow as tf
    from tensorflow_metadata.proto.v0 import schema_pb2

    examples = Examples()
    examples.uri = str(tmp_path / "examples")
    examples.splits = ["eval"]
    os.makedirs(examples.split_uri("eval"))
    with tf.io.TFRecordWriter(os.path.join(examples.split_uri("eval"), "data.gz"), options="GZIP") as writer:
        for x in (1.0, 2.0):
            example = tf.train.Example()
            example.features.feature["x"].float_list.value.append(x)
            writer.write(example.SerializeToString())
    schema = schema_pb2.Schema()
    schema.feature.add(name="x", type=schema_pb2.FLOAT)
    schema.feature.add(name="rare", type=schema_pb2.FLOAT)
    return examples, schema


def test_a_feature_absent_from_every_record_of_a_split_arrives_decoded_with_the_schema(split_without_a_feature):
    import tensorflow as tf
    from pipelinekit.components.evaluator.eval_config import example_feature_names
    from pipelinekit.components.util.examples_io import make_tfxio, split_pattern
    from tfx_bsl.public import tfxio

    from pipelinekit.tfx.components.trainer.fn_args_utils import data_accessor_for

    examples, schema = split_without_a_feature
    transform_source = make_tfxio(examples, "eval", schema)  # what Transform reads every split with
    assert set(transform_source.TensorRepresentations()) == {"x", "rare"}
    options = tfxio.TensorFlowDatasetOptions(batch_size=10, shuffle=False, num_epochs=1)
    [batch] = list(data_accessor_for([examples]).tf_dataset_factory(split_pattern(examples, "eval"), options, schema))
    assert isinstance(batch["rare"], tf.SparseTensor) and batch["rare"].dense_shape[0] == 2
    assert example_feature_names(split_pattern(examples, "eval"), schema) == {"x", "rare"}  # the Evaluator's name check
    assert example_feature_names(split_pattern(examples, "eval")) == {"x"}

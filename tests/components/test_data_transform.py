"""Transform: TFX's outputs and layout, transformed values, Keras 3 serving through the
transform graph, the import order that keeps Keras 3, the analyzer cache, and bad modules."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from data_fixtures import TFT_MODULE_START, data_pipeline, read_examples
from google.protobuf import json_format
from nested_compare import first_difference
from pipelinekit.components.util.errors import ComponentArgumentError

from pipelinekit import LocalDagRunner, Pipeline, TransformCache, importer


def test_outputs_follow_tfx_layout(data_run):
    graph = data_run.output("Transform", "transform_graph")
    assert sorted(os.listdir(graph.uri)) == ["metadata", "transform_fn", "transformed_metadata"]
    assert os.path.isfile(os.path.join(graph.uri, "transform_fn", "saved_model.pb"))
    for key, name in [
        ("pre_transform_stats", "FeatureStats.pb"),
        ("post_transform_stats", "FeatureStats.pb"),
        ("pre_transform_schema", "schema.pbtxt"),
        ("post_transform_schema", "schema.pbtxt"),
        ("post_transform_anomalies", "SchemaDiff.pb"),
    ]:
        assert os.listdir(data_run.output("Transform", key).uri) == [name]
    assert os.listdir(data_run.output("Transform", "updated_analyzer_cache").uri)


def test_stats_options_updater_fn_from_the_module_file_is_applied(data_run):
    from pipelinekit.components.util.tfdv_io import load_stats

    def top_values(key, feature):
        stats = load_stats(os.path.join(data_run.output("Transform", key).uri, "FeatureStats.pb"))
        return next(f for f in stats.datasets[0].features if f.path.step[0] == feature).string_stats.top_values

    assert len(top_values("pre_transform_stats", "species")) == 1  # the module asked for one top value
    assert top_values("pre_transform_stats", "species")[0].value == "Adelie"


def test_statistics_describe_the_analyzed_split_before_and_after_transform(data_run):
    """Both statistics cover the train split alone (the analyzed one); the post-transform ones
    are of the transformed features, read from the same batches that became the examples."""
    from pipelinekit.components.util.tfdv_io import load_stats

    train = len(read_examples(data_run.output("CsvExampleGen", "examples").split_uri("train")))
    transformed_train = read_examples(data_run.output("Transform", "transformed_examples").split_uri("train"))
    for key in ("pre_transform_stats", "post_transform_stats"):
        stats = load_stats(os.path.join(data_run.output("Transform", key).uri, "FeatureStats.pb"))
        assert [d.num_examples for d in stats.datasets] == [train]
    post = load_stats(os.path.join(data_run.output("Transform", "post_transform_stats").uri, "FeatureStats.pb"))
    features = {f.path.step[0]: f for f in post.datasets[0].features}
    assert set(features) == set(transformed_train[0].features.feature)
    values = [_float(r, "bill_length_mm_xf") for r in transformed_train]
    assert features["bill_length_mm_xf"].num_stats.mean == pytest.approx(np.mean(values), abs=1e-5)


def _float(example, key):
    values = example.features.feature[key].float_list.value
    return values[0] if values else 0.0


def test_transformed_examples_have_the_expected_values(data_run):
    source = data_run.output("CsvExampleGen", "examples")
    transformed = data_run.output("Transform", "transformed_examples")
    assert transformed.splits == ["train", "eval"] and transformed.span == 1
    raw = {s: read_examples(source.split_uri(s)) for s in ("train", "eval")}
    # scale_to_0_1 is analyzed on train only; missing values were filled with 0 before it
    low = min(_float(e, "bill_length_mm") for e in raw["train"])
    high = max(_float(e, "bill_length_mm") for e in raw["train"])
    for split in ("train", "eval"):
        rows = read_examples(transformed.split_uri(split))
        assert len(rows) == len(raw[split])
        assert all(f.startswith("transformed_examples-") for f in os.listdir(transformed.split_uri(split)))
        got = sorted(_float(r, "bill_length_mm_xf") for r in rows)
        want = sorted((_float(e, "bill_length_mm") - low) / (high - low) for e in raw[split])
        assert np.allclose(got, want, atol=1e-5)
        species = {r.features.feature["species_xf"].int64_list.value[0] for r in rows}
        islands = {r.features.feature["island_xf"].int64_list.value[0] for r in rows}
        assert species == {0, 1, 2} and islands == {-1, 0, 1}  # top_k=2 from custom_config: one island is OOV
    train_values = [_float(r, "bill_length_mm_xf") for r in read_examples(transformed.split_uri("train"))]
    assert min(train_values) == 0.0 and max(train_values) == pytest.approx(1.0)


def test_transform_graph_serves_from_a_keras_3_model(tmp_path, data_run):
    import keras
    import tensorflow as tf
    import tensorflow_transform as tft

    assert keras.__version__.startswith("3.") and tf.keras.Model is keras.Model
    output = tft.TFTransformOutput(data_run.output("Transform", "transform_graph").uri)
    raw_spec = output.raw_feature_spec()
    raw_spec.pop("species")
    features = ["bill_length_mm_xf", "bill_depth_mm_xf", "flipper_length_mm_xf", "body_mass_g_xf"]
    inputs = keras.Input(shape=(len(features),))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))

    class Serving(tf.Module):
        def __init__(self):
            super().__init__()
            self.model = model
            self.tft_layer = output.transform_features_layer()

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
        def serve(self, serialized):
            parsed = tf.io.parse_example(serialized, raw_spec)
            transformed = self.tft_layer(parsed)
            stacked = tf.stack([tf.cast(tf.reshape(transformed[f], [-1]), tf.float32) for f in features], axis=1)
            return {"probabilities": self.model(stacked)}

    module = Serving()
    path = str(tmp_path / "serving")
    tf.saved_model.save(module, path, signatures={"serving_default": module.serve})
    examples = read_examples(data_run.output("CsvExampleGen", "examples").split_uri("eval"))[:5]
    answer = tf.saved_model.load(path).signatures["serving_default"](tf.constant([e.SerializeToString() for e in examples]))
    assert answer["probabilities"].shape == (5, 3)
    assert np.allclose(answer["probabilities"].numpy().sum(axis=1), 1.0, atol=1e-5)


IMPORT_ORDER = """
import os, sys
from pipelinekit.components.util.keras3 import import_tft
import_tft()
import tensorflow as tf, keras
print(tf.keras.Model is keras.Model, os.environ.get("TF_USE_LEGACY_KERAS"))
"""


def test_importing_tft_our_way_keeps_keras_3_and_no_flag():
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    out = subprocess.run([sys.executable, "-c", IMPORT_ORDER], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split()[-2:] == ["True", "None"]


@pytest.mark.slow
def test_plain_tft_import_would_switch_to_keras_2():
    """The trap the helper avoids: tft first makes tf.keras tf-keras and sets the flag."""
    code = "import tensorflow_transform, tensorflow as tf, keras, os; print(tf.keras.Model is keras.Model, os.environ.get('TF_USE_LEGACY_KERAS'))"
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split()[-2:] == ["False", "1"]


def test_analyzer_cache_input_does_not_stop_a_fully_cached_rerun(tmp_path, data_run):
    import shutil

    cache = str(tmp_path / "cache")
    shutil.copytree(data_run.output("Transform", "updated_analyzer_cache").uri, cache)
    from pipelinekit.components import Transform

    def pipeline():
        base = data_pipeline(str(tmp_path / "root"), data_run.data, data_run.module_file)
        transform = next(n for n in base.components if n.id == "Transform")
        previous = importer(cache, TransformCache).with_id("previous_cache")
        cached = Transform(
            examples=transform.inputs["examples"],
            schema=transform.inputs["schema"],
            module_file=data_run.module_file,
            custom_config={"top_k": 2},
            analyzer_cache=previous.outputs["result"],
        )
        return Pipeline(base.pipeline_name, base.pipeline_root, [cached])

    first = LocalDagRunner().run(pipeline())
    first.raise_for_failure()
    assert os.listdir(first.output("Transform", "updated_analyzer_cache").uri)
    with open(os.path.join(cache, "unrelated-entry"), "w") as handle:  # the cache content changes
        handle.write("x")
    second = LocalDagRunner().run(pipeline())
    assert second.nodes["Transform"].status == "cached", second.nodes["Transform"].reason


BAD_MODULES = [
    (
        "no_preprocessing_fn",
        "def other(inputs):\n    return inputs\n",
        r"defines no function 'preprocessing_fn' \(it defines: other\)",
    ),
    ("syntax_error", "def preprocessing_fn(inputs):\n    return {\n", r"bad_module.py, line \d+: syntax error"),
    (
        "raises",
        "def preprocessing_fn(inputs):\n    raise KeyError('no_such_feature')\n",
        r"preprocessing_fn \(.*bad_module.py\) raised KeyError: 'no_such_feature'",
    ),
]


@pytest.mark.parametrize(("case", "source", "message"), BAD_MODULES, ids=[c[0] for c in BAD_MODULES])
def test_bad_module_file_fails_transform_naming_the_file(tmp_path, data_run, case, source, message):
    from pipelinekit.components import Transform

    module = tmp_path / "bad_module.py"
    module.write_text(source)
    examples = importer(
        data_run.output("CsvExampleGen", "examples").uri,
        type(data_run.output("CsvExampleGen", "examples")),
        properties={"split_names": '["train", "eval"]'},
    ).with_id("examples")
    schema = importer(data_run.output("SchemaGen", "schema").uri, type(data_run.output("SchemaGen", "schema"))).with_id("schema")
    node = Transform(examples=examples.outputs["result"], schema=schema.outputs["result"], module_file=str(module))
    result = LocalDagRunner().run(Pipeline("bad", str(tmp_path / "root"), [node]))
    failed = result.nodes["Transform"]
    assert failed.status == "failed"
    assert re.search(message, str(failed.error.__cause__)), str(failed.error.__cause__)
    assert not os.path.exists(tmp_path / "root" / "Transform" / "transform_graph")


def test_constructor_checks_and_optional_outputs():
    from pipelinekit.components import Transform

    with pytest.raises(ComponentArgumentError, match="exactly one of module_file and preprocessing_fn"):
        Transform(examples=None, schema=None)
    with pytest.raises(ValueError, match="disable_analyzer_cache=True"):
        Transform(examples=None, schema=None, preprocessing_fn="m.f", analyzer_cache=object(), disable_analyzer_cache=True)
    lean = Transform(
        examples=None,
        schema=None,
        preprocessing_fn="m.f",
        materialize=False,
        disable_analyzer_cache=True,
        disable_statistics=True,
    )
    assert list(lean.outputs) == ["transform_graph"]
    full = Transform(examples=None, schema=None, preprocessing_fn="m.f")
    assert len(full.outputs) == 8 and full.id == "Transform"


def test_a_split_analyzed_but_not_transformed_still_gets_post_transform_statistics(tmp_path, data_run):
    """splits_config analyze=[train], transform=[eval]: train is transformed for the statistics only."""
    from pipelinekit.components import Transform
    from pipelinekit.components.util.tfdv_io import load_stats

    from pipelinekit.tfx import proto

    base = data_pipeline(str(tmp_path / "root"), data_run.data, data_run.module_file)
    upstream = next(n for n in base.components if n.id == "Transform")
    transform = Transform(
        examples=upstream.inputs["examples"],
        schema=upstream.inputs["schema"],
        module_file=data_run.module_file,
        custom_config={"top_k": 2},
        splits_config=proto.SplitsConfig(analyze=["train"], transform=["eval"]),
    )
    result = LocalDagRunner().run(Pipeline(base.pipeline_name, base.pipeline_root, [transform]))
    result.raise_for_failure()
    examples = result.output("Transform", "transformed_examples")
    assert examples.splits == ["eval"] and sorted(os.listdir(examples.uri)) == ["Split-eval"]
    train = len(read_examples(data_run.output("CsvExampleGen", "examples").split_uri("train")))
    post = load_stats(os.path.join(result.output("Transform", "post_transform_stats").uri, "FeatureStats.pb"))
    assert post.datasets[0].num_examples == train
    assert "bill_length_mm_xf" in {f.path.step[0] for f in post.datasets[0].features}


VARIED_MODULE = TFT_MODULE_START + '''

def preprocessing_fn(inputs):
    return {
        "mass_z": tft.scale_to_z_score(tf.cast(_dense(inputs["body_mass_g"], 0), tf.float32)),
        "species_id": tft.compute_and_apply_vocabulary(_dense(inputs["species"], b"")),
        "sex_raw": inputs["sex"],  # a SparseTensor: some rows have no value
        "island_letters": tf.strings.bytes_split(_dense(inputs["island"], b"")),  # ragged
    }
'''


def test_statistics_computed_in_process_equal_the_beam_branches(tmp_path, data_run, monkeypatch):
    """Dense, vocabulary, sparse (with missing rows) and ragged outputs, two analyzed splits: the
    in-process transformed examples equal the Beam branches' message for message, and the
    statistics equal theirs proto for proto."""
    from pipelinekit.components import Transform
    from pipelinekit.components.util.tfdv_io import load_stats

    from pipelinekit.tfx import proto

    module = tmp_path / "varied_transform.py"
    module.write_text(VARIED_MODULE)
    base = data_pipeline(str(tmp_path / "base"), data_run.data, data_run.module_file)
    upstream = next(n for n in base.components if n.id == "Transform")
    stats, records, files = {}, {}, {}
    for path in ("beam", "in_process"):
        monkeypatch.setenv("PIPELINEKIT_DATA_PATH", path)
        transform = Transform(
            examples=upstream.inputs["examples"],
            schema=upstream.inputs["schema"],
            module_file=str(module),
            splits_config=proto.SplitsConfig(analyze=["train", "eval"], transform=["train", "eval"]),
        )
        result = LocalDagRunner().run(Pipeline(base.pipeline_name, str(tmp_path / path), [transform]))
        result.raise_for_failure()
        stats[path] = {
            key: load_stats(os.path.join(result.output("Transform", key).uri, "FeatureStats.pb"))
            for key in ("pre_transform_stats", "post_transform_stats")
        }
        transformed = result.output("Transform", "transformed_examples")
        records[path] = {split: sorted(_records(transformed.split_uri(split))) for split in ("train", "eval")}
        files[path] = sorted(os.listdir(transformed.split_uri("train")))
    assert records["in_process"] == records["beam"] and all(records["beam"].values())
    assert files["in_process"] == files["beam"] == ["transformed_examples-00000-of-00001.gz"]
    post = stats["beam"]["post_transform_stats"].datasets[0]
    assert {f.path.step[0] for f in post.features} >= {"mass_z", "species_id", "sex_raw", "island_letters"}
    assert post.num_examples == len(read_examples(data_run.output("CsvExampleGen", "examples").split_uri("train"))) + len(
        read_examples(data_run.output("CsvExampleGen", "examples").split_uri("eval"))
    )
    for key in stats["beam"]:
        # floats within 1e-9: merging TFDV's accumulators of two splits, as Beam does, moves a
        # standard deviation's last digit
        ours, beams = (json_format.MessageToDict(stats[path][key]) for path in ("in_process", "beam"))
        assert first_difference(ours, beams, (1e-9, 0.0)) is None, key


def _records(folder: str) -> list[bytes]:
    """The folder's tf.Examples, each serialized deterministically (features in name order: the
    two paths' encoders write a record's features in different orders, the same message)."""
    import tensorflow as tf
    from tensorflow.core.example import example_pb2

    return [
        example_pb2.Example.FromString(r.numpy()).SerializeToString(deterministic=True)
        for f in sorted(os.listdir(folder))
        for r in tf.data.TFRecordDataset(os.path.join(folder, f), compression_type="GZIP")
    ]


@pytest.mark.parametrize(
    ("case", "size", "env", "expected"),
    [
        ("small", 1000, None, True),
        ("over the small-input size", 2000, None, False),
        ("over it, forced", 2000, "in_process", True),
        ("small, Beam forced", 1000, "beam", False),
        ("Parquet", 1000, None, False),
        ("TF1 transform_fn", 1000, None, False),
        ("Flink", 1000, None, False),
    ],
)
def test_which_transforms_run_their_rows_in_process(tmp_path, monkeypatch, case, size, env, expected):
    from pipelinekit.components.transform.in_process import runs_in_process

    from pipelinekit.dsl import context as dsl_context
    from pipelinekit.dsl.context import ExecutionContext
    from pipelinekit.types.standard import Examples

    monkeypatch.setattr(dsl_context, "SMALL_INPUT_BYTES", 1500)
    if env:
        monkeypatch.setenv("PIPELINEKIT_DATA_PATH", env)
    else:
        monkeypatch.delenv("PIPELINEKIT_DATA_PATH", raising=False)
    examples = Examples(str(tmp_path / "examples"))
    os.makedirs(examples.split_uri("train"))
    (tmp_path / "examples" / "Split-train" / "data.gz").write_bytes(b"x" * size)
    if case == "Parquet":
        examples.set_custom_property("payload_format", "FORMAT_PARQUET")
    args = ["--runner=FlinkRunner", "--flink_master=localhost:8081"] if case == "Flink" else []
    context = ExecutionContext("p", str(tmp_path), "Transform", "run", 1, str(tmp_path / "tmp"), args)
    assert runs_in_process(context, examples, ["train"], force_tf_compat_v1=case == "TF1 transform_fn") is expected

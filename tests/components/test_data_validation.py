"""StatisticsGen, SchemaGen, ImportSchemaGen and ExampleValidator on the penguins run, and a
second span with a new category and a drifted feature judged against the curated schema."""

from __future__ import annotations

import os
import re

import pytest
from data_fixtures import PENGUIN_COLUMNS, penguins_csv_text, penguins_frame
from pipelinekit.components.util.tfdv_io import load_schema, load_stats

from pipelinekit import Examples, ExampleStatistics, LocalDagRunner, Pipeline, importer

NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year"]


def _split_stats(statistics, split):
    stats = load_stats(os.path.join(statistics.split_uri(split), "FeatureStats.pb"))
    assert len(stats.datasets) == 1
    return stats.datasets[0]


def _feature(dataset, name):
    return next(f for f in dataset.features if f.path.step[0] == name)


def _common(feature):
    return feature.num_stats.common_stats if feature.HasField("num_stats") else feature.string_stats.common_stats


def test_statistics_equal_pandas_counts_and_means(data_run):
    statistics = data_run.output("StatisticsGen", "statistics")
    assert statistics.splits == ["train", "eval"] and statistics.span == 1
    frame = penguins_frame()
    datasets = [_split_stats(statistics, s) for s in ("train", "eval")]
    assert sum(d.num_examples for d in datasets) == len(frame)
    for column in NUMERIC:
        features = [_feature(d, column) for d in datasets]
        # an empty cell is an empty value list (as TFX writes it): every row has the feature, the values count
        assert sum(_common(f).num_non_missing for f in features) == len(frame)
        present = sum(_common(f).tot_num_values for f in features)
        assert present == frame[column].notna().sum()
        mean = sum(f.num_stats.mean * _common(f).tot_num_values for f in features) / present
        assert mean == pytest.approx(frame[column].mean(), rel=1e-5)
    species = _feature(datasets[0], "species").string_stats
    sex = [_common(_feature(d, "sex")) for d in datasets]
    assert species.unique == 3 and sum(c.tot_num_values for c in sex) == frame["sex"].notna().sum() < len(frame)
    assert min(c.min_num_values for c in sex) == 0
    assert statistics.custom_properties["stats_dashboard_link"] == ""


def test_schema_has_the_domains_and_types_of_the_data(data_run):
    schema = load_schema(data_run.output("SchemaGen", "schema"))
    features = {f.name: f for f in schema.feature}
    assert set(features) == set(PENGUIN_COLUMNS)
    domains = {d.name: set(d.value) for d in schema.string_domain}
    assert domains[features["species"].domain] == {"Adelie", "Chinstrap", "Gentoo"}
    assert domains[features["island"].domain] == {"Biscoe", "Dream", "Torgersen"}
    assert features["year"].type == 2 and features["bill_length_mm"].type == 3  # INT, FLOAT
    # some penguins have no recorded sex: an empty list there, so sex has no fixed shape and no minimum count
    assert not features["sex"].HasField("shape") and features["sex"].value_count.min == 0
    assert features["species"].shape.dim[0].size == 1  # never empty


def test_validator_blesses_clean_splits_in_tfx_layout(data_run):
    anomalies = data_run.output("ExampleValidator", "anomalies")
    assert anomalies.splits == ["train", "eval"] and anomalies.span == 1
    assert anomalies.custom_properties["blessed"] == {"train": 1, "eval": 1}
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    diff = anomalies_pb2.Anomalies.FromString(open(os.path.join(anomalies.split_uri("eval"), "SchemaDiff.pb"), "rb").read())
    assert not diff.anomaly_info


def test_beam_and_in_process_statistics_agree(tmp_path, data_run, monkeypatch):
    from pipelinekit.components import StatisticsGen

    examples = data_run.output("CsvExampleGen", "examples")
    results = {}
    for path in ("beam", "in_process"):
        monkeypatch.setenv("PIPELINEKIT_DATA_PATH", path)
        source = importer(examples.uri, Examples, properties={"split_names": examples.split_names}).with_id("examples")
        stats = StatisticsGen(examples=source.outputs["result"], exclude_splits=["eval"])
        result = LocalDagRunner().run(Pipeline("stats", str(tmp_path / path), [stats]))
        statistics = result.output("StatisticsGen", "statistics")
        assert statistics.splits == ["train"] and not os.path.exists(statistics.split_uri("eval"))
        dataset = _split_stats(statistics, "train")
        results[path] = {
            f.path.step[0]: (_common(f).num_non_missing, round(f.num_stats.mean, 4), round(f.num_stats.std_dev, 4))
            for f in dataset.features
        } | {"n": dataset.num_examples}
    assert results["beam"] == results["in_process"]


def _second_span(folder):
    """span-2: island 'Atlantis' appears and bill lengths grow by 15 mm."""
    frame = penguins_frame()
    frame.loc[frame.index % 5 == 0, "island"] = "Atlantis"
    frame["bill_length_mm"] = frame["bill_length_mm"] + 15
    lines = penguins_csv_text().splitlines()
    header = lines[0].split(",")
    out = [lines[0]]
    for (_, row), line in zip(frame.iterrows(), lines[1:]):
        cells = line.split(",")
        cells[header.index("island")] = row["island"]
        if cells[header.index("bill_length_mm")]:
            cells[header.index("bill_length_mm")] = f"{row['bill_length_mm']:.1f}"
        out.append(",".join(cells))
    (folder / "span-2").mkdir()
    (folder / "span-2" / "penguins.csv").write_text("\n".join(out) + "\n")


def _curated_schema(data_run, path):
    """The span-1 schema with a drift comparator on bill_length_mm, as a user would curate it."""
    import tensorflow_data_validation as tfdv

    schema = load_schema(data_run.output("SchemaGen", "schema"))
    tfdv.get_feature(schema, "bill_length_mm").drift_comparator.jensen_shannon_divergence.threshold = 0.1
    tfdv.write_schema_text(schema, str(path))
    return str(path)


def _span_two_pipeline(tmp_path, data_run, fail: bool):
    import shutil

    from pipelinekit.components import CsvExampleGen, ExampleValidator, ImportSchemaGen, StatisticsGen

    from pipelinekit.tfx import proto

    data = tmp_path / "data"
    shutil.copytree(data_run.data, data)
    _second_span(data)
    gen = CsvExampleGen(
        input_base=str(data), input_config=proto.Input(splits=[proto.Input.Split(name="all", pattern="span-{SPAN}/*.csv")])
    )
    stats = StatisticsGen(examples=gen.outputs["examples"])
    schema = ImportSchemaGen(schema_file=_curated_schema(data_run, tmp_path / "curated.pbtxt"))
    previous = data_run.output("StatisticsGen", "statistics")
    baseline = importer(previous.uri, ExampleStatistics, properties={"split_names": previous.split_names}).with_id(
        "previous_stats"
    )
    check = ExampleValidator(
        statistics=stats.outputs["statistics"],
        schema=schema.outputs["schema"],
        baseline_statistics=baseline.outputs["result"],
        fail_on_anomalies=fail,
    )
    downstream = StatisticsGen(examples=gen.outputs["examples"]).with_id("after_validation")
    downstream.add_upstream(check)
    return Pipeline("span2", str(tmp_path / "root"), [check, downstream])


def test_new_span_with_new_category_and_drift_gives_those_anomalies(tmp_path, data_run):
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    result = LocalDagRunner().run(_span_two_pipeline(tmp_path, data_run, fail=False))
    result.raise_for_failure()
    assert result.output("CsvExampleGen", "examples").span == 2
    anomalies = result.output("ExampleValidator", "anomalies")
    assert anomalies.custom_properties["blessed"] == {"train": 0, "eval": 0}
    diff = anomalies_pb2.Anomalies.FromString(open(os.path.join(anomalies.split_uri("train"), "SchemaDiff.pb"), "rb").read())
    kinds = {name: {anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason} for name, info in diff.anomaly_info.items()}
    assert kinds == {
        "island": {"ENUM_TYPE_UNEXPECTED_STRING_VALUES"},
        "bill_length_mm": {"COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"},
    }
    assert "Atlantis" in diff.anomaly_info["island"].description


def test_fail_mode_stops_the_run_before_anything_downstream(tmp_path, data_run):
    result = LocalDagRunner().run(_span_two_pipeline(tmp_path, data_run, fail=True))
    node = result.nodes["ExampleValidator"]
    assert node.status == "failed" and result.nodes["after_validation"].status == "skipped"
    message = str(node.error.__cause__)
    assert re.search(r"split 'train', feature 'island': ENUM_TYPE_UNEXPECTED_STRING_VALUES: .*Atlantis", message)
    assert "split 'eval', feature 'bill_length_mm': COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH" in message
    assert not os.path.exists(tmp_path / "root" / "ExampleValidator" / "anomalies") or not os.listdir(
        tmp_path / "root" / "ExampleValidator" / "anomalies"
    )


def test_import_schema_gen_copies_a_schema_and_rejects_a_broken_one(tmp_path, data_run):
    from pipelinekit.components import ImportSchemaGen

    good = tmp_path / "schema.pbtxt"
    good.write_text('feature { name: "x" type: INT }\n')
    result = LocalDagRunner().run(Pipeline("imp", str(tmp_path / "ok"), [ImportSchemaGen(schema_file=str(good))]))
    assert load_schema(result.output("ImportSchemaGen", "schema")).feature[0].name == "x"
    bad = tmp_path / "bad.pbtxt"
    bad.write_text('feature { name: "x" type: INT }\nfeature { nme: "y" }\n')
    result = LocalDagRunner().run(Pipeline("imp", str(tmp_path / "bad"), [ImportSchemaGen(schema_file=str(bad))]))
    node = result.nodes["ImportSchemaGen"]
    assert node.status == "failed"
    assert re.search(r"schema file .*bad.pbtxt, line 2: not a text-format Schema", str(node.error.__cause__))
    assert not os.path.exists(tmp_path / "bad" / "ImportSchemaGen" / "schema") or not os.listdir(
        tmp_path / "bad" / "ImportSchemaGen" / "schema"
    )


def test_a_column_whose_type_changes_in_a_new_span_fails_validation_naming_it(tmp_path, data_run):
    import shutil

    from pipelinekit.components import CsvExampleGen, ExampleValidator, ImportSchemaGen, StatisticsGen

    from pipelinekit.tfx import proto

    data = tmp_path / "data"
    shutil.copytree(data_run.data, data)
    (data / "span-2").mkdir()
    lines = penguins_csv_text().splitlines()
    (data / "span-2" / "penguins.csv").write_text(
        "\n".join([lines[0]] + [line.rsplit(",", 1)[0] + ",y" + line.rsplit(",", 1)[1] for line in lines[1:]]) + "\n"
    )
    schema_file = tmp_path / "schema.pbtxt"
    shutil.copy(os.path.join(data_run.output("SchemaGen", "schema").uri, "schema.pbtxt"), schema_file)
    gen = CsvExampleGen(
        input_base=str(data), input_config=proto.Input(splits=[proto.Input.Split(name="all", pattern="span-{SPAN}/*.csv")])
    )
    stats = StatisticsGen(examples=gen.outputs["examples"])
    check = ExampleValidator(
        statistics=stats.outputs["statistics"],
        schema=ImportSchemaGen(schema_file=str(schema_file)).outputs["schema"],
        fail_on_anomalies=True,
    )
    result = LocalDagRunner().run(Pipeline("types", str(tmp_path / "root"), [check]))
    assert result.output("CsvExampleGen", "examples").span == 2
    node = result.nodes["ExampleValidator"]
    assert node.status == "failed"
    assert "split 'train', feature 'year': UNEXPECTED_DATA_TYPE: Expected data of type: INT but got STRING" in str(
        node.error.__cause__
    )


def _stats_artifact(folder, splits, node_id):
    """An importer of ExampleStatistics written with TFDV from ``{split: DataFrame}``."""
    import json

    import tensorflow_data_validation as tfdv
    from pipelinekit.components.util.tfdv_io import write_stats

    for split, frame in splits.items():
        write_stats(tfdv.generate_statistics_from_dataframe(frame), str(folder / f"Split-{split}" / "FeatureStats.pb"))
    return importer(str(folder), ExampleStatistics, properties={"split_names": json.dumps(list(splits))}).with_id(node_id)


def _categories(share_of_a):
    import pandas as pd

    return pd.DataFrame({"c": ["a"] * share_of_a + ["b"] * (100 - share_of_a)})


def _skew_run(tmp_path, serving_splits, **validator):
    import tensorflow_data_validation as tfdv
    from pipelinekit.components import ExampleValidator, ImportSchemaGen

    train = _stats_artifact(tmp_path / "train_stats", {"train": _categories(90)}, "train_stats")
    schema = tfdv.infer_schema(tfdv.generate_statistics_from_dataframe(_categories(90)))
    tfdv.get_feature(schema, "c").skew_comparator.infinity_norm.threshold = 0.01
    tfdv.write_schema_text(schema, str(tmp_path / "schema.pbtxt"))
    if serving_splits:
        validator["serving_statistics"] = _stats_artifact(tmp_path / "serving_stats", serving_splits, "serving_stats").outputs[
            "result"
        ]
    check = ExampleValidator(
        statistics=train.outputs["result"],
        schema=ImportSchemaGen(schema_file=str(tmp_path / "schema.pbtxt")).outputs["schema"],
        **validator,
    )
    result = LocalDagRunner().run(Pipeline("skew", str(tmp_path / "root"), [check]))
    result.raise_for_failure()
    return result.output("ExampleValidator", "anomalies")


def _anomaly_kinds(anomalies, split):
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    diff = anomalies_pb2.Anomalies.FromString(open(os.path.join(anomalies.split_uri(split), "SchemaDiff.pb"), "rb").read())
    return {name: {anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason} for name, info in diff.anomaly_info.items()}


def test_serving_statistics_turn_on_the_schemas_skew_comparators(tmp_path):
    anomalies = _skew_run(tmp_path, {"train": _categories(10)})
    assert _anomaly_kinds(anomalies, "train") == {"c": {"COMPARATOR_L_INFTY_HIGH"}}
    assert anomalies.custom_properties["blessed"] == {"train": 0}
    assert anomalies.custom_properties["compared_splits"] == {"train": {"serving_statistics": "train"}}
    assert _anomaly_kinds(_skew_run(tmp_path / "alike", {"train": _categories(90)}), "train") == {}


def test_skew_is_not_judged_from_a_drift_baseline(tmp_path):
    baseline = _stats_artifact(tmp_path / "previous", {"train": _categories(10)}, "previous_stats")
    anomalies = _skew_run(tmp_path, {}, baseline_statistics=baseline.outputs["result"])
    assert anomalies.custom_properties["blessed"] == {"train": 1}


def test_a_comparison_split_that_does_not_match_is_warned_about_and_recorded(tmp_path, caplog):
    with caplog.at_level("WARNING"):
        anomalies = _skew_run(tmp_path, {"serving": _categories(10)})
    assert _anomaly_kinds(anomalies, "train") == {"c": {"COMPARATOR_L_INFTY_HIGH"}}
    assert anomalies.custom_properties["compared_splits"] == {"train": {"serving_statistics": "serving"}}
    assert re.search(
        r"serving_statistics has no split 'train' \(its splits: \['serving'\]\), so split 'train' is compared with its split 'serving'",
        caplog.text,
    ), caplog.text


TINY_MODULE = """
import tensorflow_transform as tft


def preprocessing_fn(inputs):
    return {"a_xf": tft.scale_to_0_1(inputs["a"])}
"""


@pytest.mark.parametrize("path", ["in_process", "beam"])
def test_an_empty_split_gets_zero_example_statistics_and_does_not_stop_the_pipeline(tmp_path, monkeypatch, caplog, path):
    from data_fixtures import read_examples
    from pipelinekit.components import CsvExampleGen, ExampleValidator, SchemaGen, StatisticsGen, Transform

    monkeypatch.setenv("PIPELINEKIT_DATA_PATH", path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "d.csv").write_text("a,b\n1,x\n2,y\n3,z\n")  # the 2:1 hash split leaves eval empty
    (tmp_path / "m.py").write_text(TINY_MODULE)
    gen = CsvExampleGen(input_base=str(tmp_path / "data"))
    stats = StatisticsGen(examples=gen.outputs["examples"])
    schema = SchemaGen(statistics=stats.outputs["statistics"])
    check = ExampleValidator(statistics=stats.outputs["statistics"], schema=schema.outputs["schema"])
    transform = Transform(examples=gen.outputs["examples"], schema=schema.outputs["schema"], module_file=str(tmp_path / "m.py"))
    with caplog.at_level("WARNING"):
        result = LocalDagRunner().run(Pipeline("tiny", str(tmp_path / "root"), [check, transform]))
    result.raise_for_failure()
    assert "output split 'eval' holds no examples" in caplog.text
    statistics = result.output("StatisticsGen", "statistics")
    assert (_split_stats(statistics, "train").num_examples, _split_stats(statistics, "eval").num_examples) == (3, 0)
    assert not _split_stats(statistics, "eval").features
    features = load_schema(result.output("SchemaGen", "schema")).feature
    assert {f.name for f in features} == {"a", "b"} and not any(f.lifecycle_stage for f in features)  # none marked deprecated
    transformed = result.output("Transform", "transformed_examples")
    assert [len(read_examples(transformed.split_uri(s))) for s in ("train", "eval")] == [3, 0]


def test_schema_gen_fails_when_no_split_has_examples(tmp_path):
    import pandas as pd
    from pipelinekit.components import SchemaGen

    stats = _stats_artifact(tmp_path / "stats", {"train": pd.DataFrame({"c": pd.Series([], dtype=str)})}, "empty_stats")
    result = LocalDagRunner().run(Pipeline("empty", str(tmp_path / "root"), [SchemaGen(statistics=stats.outputs["result"])]))
    node = result.nodes["SchemaGen"]
    assert node.status == "failed"
    assert re.search(
        r"SchemaGen: the statistics at .* count no examples in any of the splits \['train'\]", str(node.error.__cause__)
    )


def _imported(artifact, artifact_type, node_id):
    return (
        importer(artifact.uri, artifact_type, properties={"split_names": artifact.split_names}).with_id(node_id).outputs["result"]
    )


@pytest.mark.parametrize("path", ["in_process", "beam"])
def test_statistics_gen_applies_stats_options(tmp_path, data_run, monkeypatch, path):
    import tensorflow_data_validation as tfdv
    from pipelinekit.components import StatisticsGen

    monkeypatch.setenv("PIPELINEKIT_DATA_PATH", path)
    examples = _imported(data_run.output("CsvExampleGen", "examples"), Examples, "examples")
    options = tfdv.StatsOptions(num_top_values=1, feature_allowlist=["species", "body_mass_g"])
    result = LocalDagRunner().run(Pipeline("opts", str(tmp_path), [StatisticsGen(examples=examples, stats_options=options)]))
    result.raise_for_failure()
    dataset = _split_stats(result.output("StatisticsGen", "statistics"), "train")
    assert {f.path.step[0] for f in dataset.features} == {"species", "body_mass_g"}
    assert len(_feature(dataset, "species").string_stats.top_values) == 1


def test_schema_gen_without_feature_shapes(tmp_path, data_run):
    from pipelinekit.components import SchemaGen

    statistics = _imported(data_run.output("StatisticsGen", "statistics"), ExampleStatistics, "statistics")
    result = LocalDagRunner().run(Pipeline("shape", str(tmp_path), [SchemaGen(statistics=statistics, infer_feature_shape=False)]))
    result.raise_for_failure()
    assert not any(f.HasField("shape") for f in load_schema(result.output("SchemaGen", "schema")).feature)
    inferred = {f.name: f for f in load_schema(data_run.output("SchemaGen", "schema")).feature}
    assert inferred["species"].HasField("shape")  # the default, infer_feature_shape=True, gives always-present features a shape


def test_custom_validation_config_adds_its_anomalies(tmp_path, data_run):
    from google.protobuf import text_format
    from pipelinekit.components import ExampleValidator, ImportSchemaGen
    from tensorflow_data_validation.anomalies.proto import custom_validation_config_pb2

    config = text_format.Parse(
        """feature_validations { feature_path { step: 'island' } validations {
             sql_expression: 'feature.string_stats.common_stats.min_num_values > 5' severity: ERROR
             description: 'Feature does not have enough values.' } }""",
        custom_validation_config_pb2.CustomValidationConfig(),
    )
    statistics = _imported(data_run.output("StatisticsGen", "statistics"), ExampleStatistics, "statistics")
    schema = ImportSchemaGen(schema_file=os.path.join(data_run.output("SchemaGen", "schema").uri, "schema.pbtxt"))
    check = ExampleValidator(statistics=statistics, schema=schema.outputs["schema"], custom_validation_config=config)
    result = LocalDagRunner().run(Pipeline("custom", str(tmp_path), [check]))
    result.raise_for_failure()
    anomalies = result.output("ExampleValidator", "anomalies")
    assert anomalies.custom_properties["blessed"] == {"train": 0, "eval": 0}
    assert _anomaly_kinds(anomalies, "eval") == {"island": {"CUSTOM_VALIDATION"}}

"""DistributionValidator and ExampleDiff, written as TFX's guide and tests write them (only the
imports changed), on palmerpenguins and on generated data with a known drift."""

from __future__ import annotations

import json
import os
import re

import pytest
from data_fixtures import penguins_csv_text, penguins_frame

from pipelinekit import LocalDagRunner, tfx
from pipelinekit.errors import RunError

DRIFT_CONFIG = """
default_slice_config {
  feature { path { step: "body_mass_g" } distribution_comparator { jensen_shannon_divergence { threshold: 0.2 } } }
  feature { path { step: "flipper_length_mm" } distribution_comparator { jensen_shannon_divergence { threshold: 0.2 } } }
  feature { path { step: "island" } distribution_comparator { infinity_norm { threshold: 0.1 } } }
  num_examples_comparator { min_fraction_threshold: 0.8 max_fraction_threshold: 1.2 }
}
"""


def _config(text: str = DRIFT_CONFIG):
    from google.protobuf import text_format

    return text_format.Parse(text, tfx.proto.DistributionValidatorConfig())


def _write_drifted(folder) -> None:
    """The penguins of 2007 and 2008, 2 kg heavier, with the Dream island's birds moved to Biscoe."""
    frame = penguins_frame()
    frame = frame[frame["year"] != 2009].copy()
    frame["body_mass_g"] = frame["body_mass_g"] + 2000
    frame["island"] = frame["island"].replace("Dream", "Biscoe")
    folder.mkdir(parents=True)
    frame.to_csv(folder / "penguins.csv", index=False, na_rep="")


@pytest.fixture(scope="module")
def drift_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("drift")
    (root / "base").mkdir()
    (root / "base" / "penguins.csv").write_text(penguins_csv_text())
    _write_drifted(root / "drifted")
    example_gen = tfx.components.CsvExampleGen(input_base=str(root / "base"))
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    drifted_gen = tfx.components.CsvExampleGen(input_base=str(root / "drifted")).with_id("CsvExampleGen_Drifted")
    drifted_stats = tfx.components.StatisticsGen(examples=drifted_gen.outputs["examples"]).with_id("StatisticsGen_Drifted")
    drift_check = tfx.components.DistributionValidator(
        statistics=drifted_stats.outputs["statistics"],
        baseline_statistics=statistics_gen.outputs["statistics"],
        config=_config(),
    ).with_id("DriftCheck")
    same_data_check = tfx.components.DistributionValidator(
        statistics=statistics_gen.outputs["statistics"],
        baseline_statistics=statistics_gen.outputs["statistics"],
        config=_config(
            DRIFT_CONFIG.replace("num_examples_comparator { min_fraction_threshold: 0.8 max_fraction_threshold: 1.2 }", "")
        ),
        include_split_pairs=[("eval", "train")],
    ).with_id("SameDataCheck")
    pipeline = tfx.dsl.Pipeline(
        pipeline_name="drift",
        pipeline_root=str(root / "root"),
        components=[example_gen, statistics_gen, drifted_gen, drifted_stats, drift_check, same_data_check],
    )
    result = LocalDagRunner().run(pipeline)
    result.raise_for_failure()
    return result


def _split_pair_anomalies(anomalies, pair):
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    with open(os.path.join(anomalies.uri, f"SplitPair-{pair}", "SchemaDiff.pb"), "rb") as handle:
        return anomalies_pb2.Anomalies.FromString(handle.read())


def _kinds(diff):
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    found = {name: {anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason} for name, info in diff.anomaly_info.items()}
    if diff.HasField("dataset_anomaly_info"):
        found["<dataset>"] = {anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in diff.dataset_anomaly_info.reason}
    return found


def test_component_keeps_tfx_keys_and_exec_properties():
    # TFX's component_test, with our channels
    gen = tfx.components.CsvExampleGen(input_base="/data")
    stats = tfx.components.StatisticsGen(examples=gen.outputs["examples"])
    config = _config("default_slice_config { num_examples_comparator { min_fraction_threshold: 1.0 } }")
    validator = tfx.components.DistributionValidator(
        statistics=stats.outputs["statistics"],
        baseline_statistics=stats.outputs["statistics"],
        config=config,
        include_split_pairs=[("eval", "train")],
    )
    assert validator.outputs["anomalies"].type_name == "ExampleAnomalies"
    assert validator.parameters["include_split_pairs"] == '[["eval", "train"]]'
    from pipelinekit.tfx.utils.proto_utils import json_to_proto

    assert json_to_proto(validator.parameters["distribution_validator_config"], tfx.proto.DistributionValidatorConfig()) == config
    comparator = tfx.proto.FeatureComparator.DESCRIPTOR.fields_by_name["distribution_comparator"]
    assert comparator.message_type.full_name == "tensorflow.metadata.v0.FeatureComparator"  # TFDV's own message
    from pipelinekit.components import DistributionValidator

    assert DistributionValidator is tfx.components.DistributionValidator


@pytest.mark.parametrize(
    ("config", "pairs", "message"),
    [
        (
            "default_slice_config { feature { distribution_comparator { infinity_norm { threshold: 0.1 } } } }",
            None,
            r"default_slice_config.feature\[0\] has no path",
        ),
        (
            'default_slice_config { feature { path { step: "island" } } }',
            None,
            r"feature\[0\] \(feature 'island'\) has no distribution_comparator",
        ),
        (
            'default_slice_config { feature { path { step: "island" } distribution_comparator { infinity_norm { } } }'
            ' feature { path { step: "island" } distribution_comparator { infinity_norm { threshold: 0.2 } } } }',
            None,
            r"feature\[1\]: feature 'island' is already configured in feature\[0\]",
        ),
        ("", [("train", "train", "eval")], r"include_split_pairs=...\): entry 0 is \('train', 'train', 'eval'\)"),
    ],
)
def test_bad_config_is_refused_naming_the_feature(config, pairs, message):
    gen = tfx.components.CsvExampleGen(input_base="/data")
    stats = tfx.components.StatisticsGen(examples=gen.outputs["examples"])
    with pytest.raises(ValueError, match=message):
        tfx.components.DistributionValidator(
            statistics=stats.outputs["statistics"],
            baseline_statistics=stats.outputs["statistics"],
            config=_config(config),
            include_split_pairs=pairs,
        )


def test_drifted_pair_has_the_drift_anomalies_and_unchanged_features_none(drift_run):
    anomalies = drift_run.output("DriftCheck", "anomalies")
    assert anomalies.splits == ["train_train", "eval_eval"] and anomalies.span == 0
    assert anomalies.custom_properties["blessed"] == {"train_train": 0, "eval_eval": 0}
    for pair in ("train_train", "eval_eval"):
        diff = _split_pair_anomalies(anomalies, pair)
        assert _kinds(diff) == {
            "body_mass_g": {"COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"},
            "island": {"COMPARATOR_L_INFTY_HIGH"},
            "<dataset>": {"COMPARATOR_LOW_NUM_EXAMPLES"},
        }
        measured = {d.path.step[0]: d.drift_measurements[0] for d in diff.drift_skew_info}
        assert set(measured) == {"body_mass_g", "flipper_length_mm", "island"}
        assert measured["body_mass_g"].value > 0.2 > measured["flipper_length_mm"].value
        assert measured["island"].value > 0.1 and measured["island"].threshold == pytest.approx(0.1)
        assert diff.anomaly_name_format == diff.SERIALIZED_PATH and not diff.anomaly_info["island"].description


def _island_shares(examples, split):
    from pipelinekit.components.util.examples_io import read_record_batch

    islands = [values[0].decode() for values in read_record_batch(examples, split).column("island").to_pylist() if values]
    return {name: islands.count(name) / len(islands) for name in set(islands)}


def test_the_run_report_reads_the_split_pairs(drift_run):
    from pipelinekit.report.readers import read_anomalies

    found = read_anomalies(drift_run.output("DriftCheck", "anomalies"))
    assert sorted(found) == ["eval_eval", "train_train"] and "island" in found["train_train"].anomaly_info


def test_island_drift_is_the_largest_change_in_an_islands_share(drift_run):
    """L-infinity, recomputed from the examples of each split: the largest change of any
    island's share (the Dream birds, moved to Biscoe)."""
    diff = _split_pair_anomalies(drift_run.output("DriftCheck", "anomalies"), "train_train")
    measured = next(d for d in diff.drift_skew_info if d.path.step[0] == "island").drift_measurements[0].value
    base = _island_shares(drift_run.output("CsvExampleGen", "examples"), "train")
    drifted = _island_shares(drift_run.output("CsvExampleGen_Drifted", "examples"), "train")
    assert "Dream" in base and "Dream" not in drifted
    assert measured == pytest.approx(max(abs(base.get(k, 0) - drifted.get(k, 0)) for k in {*base, *drifted}), abs=1e-6)


def test_unchanged_data_passes(drift_run):
    anomalies = drift_run.output("SameDataCheck", "anomalies")
    assert anomalies.splits == ["eval_train"]
    assert anomalies.custom_properties["blessed"] == {"eval_train": 1}
    diff = _split_pair_anomalies(anomalies, "eval_train")
    assert _kinds(diff) == {}
    assert {d.path.step[0] for d in diff.drift_skew_info} == {"body_mass_g", "flipper_length_mm", "island"}
    assert all(0 < d.drift_measurements[0].value < 0.1 for d in diff.drift_skew_info)  # thresholds: 0.2, 0.2 and 0.1


def _validate(tmp_path, config, **arguments):
    """DistributionValidator's executor on the given statistics, outside a pipeline."""
    from pipelinekit.components.distribution_validator.executor import run_distribution_validator

    from pipelinekit.dsl.context import ExecutionContext
    from pipelinekit.tfx.utils.proto_utils import proto_to_json
    from pipelinekit.types.standard import ExampleAnomalies

    anomalies = ExampleAnomalies(str(tmp_path / "anomalies"))
    context = ExecutionContext("drift", str(tmp_path), "DistributionValidator", "run", 1, str(tmp_path))
    run_distribution_validator(
        context, anomalies=anomalies, distribution_validator_config=proto_to_json(_config(config)), **arguments
    )
    return anomalies


def _run_validator(tmp_path, drift_run, config, **arguments):
    """The executor on the drift run's drifted statistics, against its base ones unless told."""
    arguments.setdefault("baseline_statistics", drift_run.output("StatisticsGen", "statistics"))
    return _validate(tmp_path, config, statistics=drift_run.output("StatisticsGen_Drifted", "statistics"), **arguments)


def test_a_feature_missing_from_the_statistics_is_an_anomaly_naming_it(tmp_path, drift_run):
    config = 'default_slice_config { feature { path { step: "bill_lenght_mm" } distribution_comparator { jensen_shannon_divergence { threshold: 0.1 } } } }'
    anomalies = _run_validator(tmp_path, drift_run, config)
    assert anomalies.custom_properties["blessed"] == {"train_train": 0, "eval_eval": 0}
    diff = _split_pair_anomalies(anomalies, "train_train")
    assert _kinds(diff) == {"bill_lenght_mm": {"STATS_NOT_AVAILABLE"}}
    assert "'bill_lenght_mm' is not in the baseline statistics" in diff.anomaly_info["bill_lenght_mm"].reason[0].description


def test_a_categorical_comparator_on_a_numeric_feature_is_an_error(tmp_path, drift_run):
    config = 'default_slice_config { feature { path { step: "body_mass_g" } distribution_comparator { infinity_norm { threshold: 0.1 } } } }'
    with pytest.raises(RunError, match=r"split pair train_train: feature 'body_mass_g' is numeric .* uses infinity_norm"):
        _run_validator(tmp_path, drift_run, config)


def test_split_pairs_that_do_not_exist_are_named(tmp_path, drift_run):
    with pytest.raises(
        RunError,
        match=r"include_split_pairs names \('serving', 'train'\), but the current artifact .* has splits \['train', 'eval'\]",
    ):
        _run_validator(
            tmp_path, drift_run, DRIFT_CONFIG, include_split_pairs=json.dumps([["eval", "train"], ["serving", "train"]])
        )


def test_no_baseline_passes_every_split_as_tfx_cold_start(tmp_path, drift_run):
    anomalies = _run_validator(tmp_path, drift_run, DRIFT_CONFIG, baseline_statistics=None)
    assert anomalies.custom_properties["blessed"] == {"train": 2, "eval": 2}
    assert not os.path.exists(anomalies.uri) or not os.listdir(anomalies.uri)


def test_baseline_statistics_input_is_optional_only_at_run_time():
    gen = tfx.components.CsvExampleGen(input_base="/data")
    stats = tfx.components.StatisticsGen(examples=gen.outputs["examples"])
    with pytest.raises(TypeError, match="baseline_statistics"):
        tfx.components.DistributionValidator(statistics=stats.outputs["statistics"], config=_config())  # type: ignore[call-arg]


# ExampleDiff ---------------------------------------------------------------------------------


def _generated(seed: int = 3):
    """300 rows with an id; the 'test' copy changes x by 5 on every tenth id, swaps the colour
    of every seventh, drops ids 280-299 and adds ids 300-304."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    base = pd.DataFrame({"id": range(300), "x": rng.normal(10, 2, 300).round(2), "colour": rng.choice(["red", "blue"], 300)})
    test = base.copy()
    test.loc[test.id % 10 == 0, "x"] += 5
    test.loc[test.id % 7 == 0, "colour"] = test.loc[test.id % 7 == 0, "colour"].map({"red": "blue", "blue": "red"})
    test = test[test.id < 280]
    extra = pd.DataFrame({"id": range(300, 305), "x": [1.0] * 5, "colour": ["red"] * 5})
    return base, pd.concat([test, extra], ignore_index=True)


@pytest.fixture(scope="module")
def diff_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("diff")
    base, test = _generated()
    for name, frame in (("base", base), ("test", test)):
        (root / name).mkdir()
        frame.to_csv(root / name / "data.csv", index=False)
    by_id = tfx.proto.Output(
        split_config=tfx.proto.SplitConfig(
            splits=[
                tfx.proto.SplitConfig.Split(name="train", hash_buckets=2),
                tfx.proto.SplitConfig.Split(name="eval", hash_buckets=1),
            ],
            partition_feature_name="id",
        )
    )
    example_gen = tfx.components.CsvExampleGen(input_base=str(root / "test"), output_config=by_id)
    base_gen = tfx.components.CsvExampleGen(input_base=str(root / "base"), output_config=by_id).with_id("CsvExampleGen_Base")
    example_diff = tfx.components.ExampleDiff(
        examples_test=example_gen.outputs["examples"],
        examples_base=base_gen.outputs["examples"],
        config=tfx.proto.ExampleDiffConfig(
            paired_example_skew=tfx.proto.PairedExampleSkew(
                skew_sample_size=2,
                identifier_features=["id"],
                confusion_config=[tfx.proto.PairedExampleSkew.ConfusionConfig(feature_name="colour")],
            )
        ),
        include_split_pairs=[("train", "train"), ("eval", "eval")],
    )
    result = LocalDagRunner().run(
        tfx.dsl.Pipeline(pipeline_name="diff", pipeline_root=str(root / "root"), components=[example_gen, base_gen, example_diff])
    )
    result.raise_for_failure()
    return result


def _pair_results(diff, pair):
    from tensorflow_data_validation.skew import feature_skew_detector as fsd

    prefix = os.path.join(diff.uri, f"SplitPair-{pair}")
    return (
        {s.feature_name: s for s in fsd.skew_results_iterator(os.path.join(prefix, "skew_stats"))},
        list(fsd.match_stats_iterator(os.path.join(prefix, "match_stats"))),
        list(fsd.skew_pair_iterator(os.path.join(prefix, "sample_pairs"))),
        list(fsd.confusion_count_iterator(os.path.join(prefix, "confusion"))),
    )


def test_example_diff_writes_tfx_layout_per_split_pair(diff_run):
    diff = diff_run.output("ExampleDiff", "example_diff_result")
    assert diff.TYPE_NAME == "ExamplesDiff"
    assert sorted(os.listdir(diff.uri)) == ["SplitPair-eval_eval", "SplitPair-train_train"]
    assert sorted(os.listdir(os.path.join(diff.uri, "SplitPair-eval_eval"))) == [
        f"{name}-00000-of-00001" for name in ("confusion", "match_stats", "sample_pairs", "skew_stats")
    ]


def test_example_diff_counts_the_changed_examples_per_feature(diff_run):
    """Summed over the split pairs (an id lands in the same split on both sides), the counts
    are those of the generated changes; base counts are the baseline's (TFX 1.16 swaps them)."""
    base, test = _generated()
    diff = diff_run.output("ExampleDiff", "example_diff_result")
    totals: dict = {}
    matched = base_with_id = test_with_id = samples = 0
    confusion: dict = {}
    for pair in ("train_train", "eval_eval"):
        skew, match, pairs, counts = _pair_results(diff, pair)
        assert len(match) == 1
        matched += match[0].matching_pairs_count
        base_with_id += match[0].base_with_id_count
        test_with_id += match[0].test_with_id_count
        samples += len(pairs)
        for name, result in skew.items():
            totals[name] = totals.get(name, 0) + result.mismatch_count
        for count in counts:
            key = (count.base.bytes_value.decode(), count.test.bytes_value.decode())
            confusion[key] = confusion.get(key, 0) + count.count
    shared = base[base.id < 280]
    assert (base_with_id, test_with_id, matched) == (len(base), len(test), len(shared))
    assert totals == {"x": int((shared.id % 10 == 0).sum()), "colour": int((shared.id % 7 == 0).sum())}
    swapped = int((shared.id % 7 == 0).sum())
    assert sum(n for (b, t), n in confusion.items() if b != t) == swapped
    assert sum(confusion.values()) == len(shared)
    assert 0 < samples <= 2 * 2  # skew_sample_size per pair


def test_the_run_report_shows_each_split_pairs_skew(diff_run):
    """The report's ExampleDiff section, rendered from the run's store: per split pair the counts
    of TFDV's records (read here with TFDV's own readers), summed over the pairs those of the
    generated changes, and the skewed features most mismatched first."""
    import re

    from pipelinekit.dsl.metadata_config import sqlite_metadata
    from pipelinekit.metadata.store import MetadataStore
    from pipelinekit.report.render import render_report
    from pipelinekit.report.run_view import find_run, read_run

    diff = diff_run.output("ExampleDiff", "example_diff_result")
    store = MetadataStore(sqlite_metadata(os.path.join(diff.uri.split("/ExampleDiff/")[0], "metadata.sqlite")))
    run = read_run(store, *find_run(store, diff_run.run_id))
    html = render_report(run)
    section = html[html.index('<section class="pk-section" id="example_diff">') :]
    section = section[: section.index("</section>")]
    base, test = _generated()
    shared = base[base.id < 280]
    totals = {"x": 0, "colour": 0, "matched": 0, "base only": 0, "test only": 0}
    for pair in ("eval_eval", "train_train"):
        skew, [match], _, confusion = _pair_results(diff, pair)
        shown = section[section.index(f'data-pair="{pair}"') :]
        shown = shown[: shown.find('<div class="pk-diff-pair"')] if '<div class="pk-diff-pair"' in shown else shown
        header = re.search(r'<table class="pk-match">.*?</table>', shown, re.S).group(0)
        assert dict(zip(re.findall(r"<th>([^<]+)</th>", header), (int(n.replace(",", "")) for n in re.findall(r'"num">([\d,]+)<', header)))) == {
            "base examples": match.base_with_id_count, "test examples": match.test_with_id_count,
            "identifiers": match.identifiers_count, "matched pairs": match.matching_pairs_count,
            "ids only in base": match.ids_missing_in_test_count, "ids only in test": match.ids_missing_in_base_count,
            "duplicate ids (skipped)": 0, "base without id": 0, "test without id": 0,
        }  # fmt: skip
        rows = re.findall(
            r'<tr class="pk-skew-row" data-feature="(\w+)">(.*?)</tr>',
            shown[: shown.index("</table>", shown.index("pk-skew"))],
            re.S,
        )
        assert [name for name, _ in rows] == sorted(["x", "colour"], key=lambda name: -skew[name].mismatch_count)
        for name, cells in rows:
            r = skew[name]
            expected = [r.base_count, r.test_count, r.match_count, r.mismatch_count, r.base_only, r.test_only, r.diff_count]
            assert [int(n.replace(",", "")) for n in re.findall(r'"num[^"]*">([\d,]+)<', cells)] == expected
            totals[name] += r.mismatch_count
        assert set(skew) == {"x", "colour"} and "equal in every matched pair" not in shown  # the identifier is not compared
        changed = sum(c.count for c in confusion if c.base.bytes_value != c.test.bytes_value)
        assert f"{changed} of {sum(c.count for c in confusion)} pairs changed value" in shown
        totals["matched"] += match.matching_pairs_count
        totals["base only"] += match.ids_missing_in_test_count
        totals["test only"] += match.ids_missing_in_base_count
    assert totals == {
        "x": int((shared.id % 10 == 0).sum()), "colour": int((shared.id % 7 == 0).sum()),
        "matched": len(shared), "base only": len(base) - len(shared), "test only": len(test) - len(shared),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("default", "include", "expected"),
    [
        ("same", None, [("train", "train"), ("eval", "eval")]),
        ("all", None, [("train", "train"), ("train", "eval"), ("eval", "train"), ("eval", "eval")]),
        ("same", '[["eval", "train"]]', [("eval", "train")]),
    ],
)
def test_split_pairs_default_as_in_tfx(default, include, expected):
    """Without include_split_pairs, DistributionValidator compares same-named splits and
    ExampleDiff every pair."""
    from pipelinekit.components.util.split_pairs import choose_split_pairs

    from pipelinekit.types.standard import Examples

    current, baseline = Examples("/current"), Examples("/baseline")
    current.splits = baseline.splits = ["train", "eval"]
    assert choose_split_pairs(current, baseline, include, "C", default=default) == expected
    baseline.splits = ["serving"]
    with pytest.raises(RunError, match=r"C: no split pairs to compare: .* none with the same name"):
        choose_split_pairs(current, baseline, None, "C", default="same")


def test_example_diff_keeps_tfx_keys_and_refuses_configs_it_cannot_run():
    gen = tfx.components.CsvExampleGen(input_base="/data")
    config = tfx.proto.ExampleDiffConfig(
        paired_example_skew=tfx.proto.PairedExampleSkew(skew_sample_size=9, identifier_features=["id"])
    )
    example_diff = tfx.components.ExampleDiff(
        examples_test=gen.outputs["examples"],
        examples_base=gen.outputs["examples"],
        config=config,
        include_split_pairs=[("train", "train"), ("eval", "foo")],
    )
    assert example_diff.outputs["example_diff_result"].type_name == "ExamplesDiff"
    assert example_diff.parameters["include_split_pairs"] == '[["train", "train"], ["eval", "foo"]]'
    from pipelinekit.tfx.utils.proto_utils import json_to_proto

    assert json_to_proto(example_diff.parameters["example_diff_config"], tfx.proto.ExampleDiffConfig()) == config
    with pytest.raises(ValueError, match=re.escape("ExampleDiff: config= is required (a tfx.proto.ExampleDiffConfig)")):
        tfx.components.ExampleDiff(examples_test=gen.outputs["examples"], examples_base=gen.outputs["examples"], config=None)
    with pytest.raises(ValueError, match="set paired_example_skew"):
        tfx.components.ExampleDiff(
            examples_test=gen.outputs["examples"], examples_base=gen.outputs["examples"], config=tfx.proto.ExampleDiffConfig()
        )
    with pytest.raises(ValueError, match=re.escape("paired_example_skew.identifier_features is empty")):
        tfx.components.ExampleDiff(
            examples_test=gen.outputs["examples"],
            examples_base=gen.outputs["examples"],
            config=tfx.proto.ExampleDiffConfig(paired_example_skew=tfx.proto.PairedExampleSkew(skew_sample_size=2)),
        )


def test_custom_validation_compares_the_pair(tmp_path, drift_run):
    """TFX's SQL check over a feature of both datasets: fewer islands than the baseline fails."""
    custom = """feature_pair_validations {
        feature_test_path { step: 'island' } feature_base_path { step: 'island' }
        validations { sql_expression: 'feature_test.string_stats.unique >= feature_base.string_stats.unique'
                      severity: ERROR description: 'Fewer islands than in the baseline.' } }"""
    config = 'default_slice_config { feature { path { step: "flipper_length_mm" } distribution_comparator { jensen_shannon_divergence { threshold: 0.2 } } } }'
    anomalies = _run_validator(tmp_path, drift_run, config, custom_validation_config=custom)
    assert anomalies.custom_properties["blessed"] == {"train_train": 0, "eval_eval": 0}
    diff = _split_pair_anomalies(anomalies, "train_train")
    assert _kinds(diff) == {"island": {"CUSTOM_VALIDATION"}}
    assert diff.anomaly_info["island"].reason[0].short_description == "Fewer islands than in the baseline."


def test_a_feature_the_current_data_lacks_is_an_anomaly_saying_so(tmp_path):
    import pandas as pd
    import tensorflow_data_validation as tfdv
    from pipelinekit.components.util.tfdv_io import write_stats

    from pipelinekit.types.standard import ExampleStatistics

    frames = {
        "baseline": pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]}),
        "current": pd.DataFrame({"c": ["a", "b", "b"]}),
    }
    artifacts = {}
    for role, frame in frames.items():
        artifacts[role] = ExampleStatistics(str(tmp_path / role))
        artifacts[role].splits = ["train"]
        write_stats(tfdv.generate_statistics_from_dataframe(frame), str(tmp_path / role / "Split-train" / "FeatureStats.pb"))
    config = 'default_slice_config { feature { path { step: "x" } distribution_comparator { jensen_shannon_divergence { threshold: 0.1 } } } }'
    anomalies = _validate(tmp_path, config, statistics=artifacts["current"], baseline_statistics=artifacts["baseline"])
    assert anomalies.custom_properties["blessed"] == {"train_train": 0}
    reason = _split_pair_anomalies(anomalies, "train_train").anomaly_info["x"].reason[0]
    assert (
        reason.description
        == "Feature 'x' is not in the current statistics, so it could not be compared: the current data lacks it."
    )

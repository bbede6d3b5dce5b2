"""The taxi example: generated spans drift as documented, span 1 then span 2 run through the
pipeline with LocalDagRunner, and ExampleValidator reports drift on the drifted features (and
only on them) against the previous span's statistics, also when span 2 is run again."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from pipelinekit import CompileError, DefinitionError, ExampleStatistics, LocalDagRunner, Pipeline, Resolver, compile_pipeline
from pipelinekit.dsl.loader import load_pipeline

TAXI = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "examples", "taxi")
PIPELINE_FILE = os.path.abspath(os.path.join(TAXI, "pipeline.py"))
ROWS, SEED = 3000, 11
DRIFTED = {"trip_miles": "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH", "fare": "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"}
STABLE = ("trip_start_hour", "company")


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"taxi_{name}", os.path.join(TAXI, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    if os.path.abspath(TAXI) not in sys.path:
        sys.path.insert(0, os.path.abspath(TAXI))  # span_baseline, as the pipeline loader arranges
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Both spans written by the generator's command line, as the README runs it."""
    folder = tmp_path_factory.mktemp("taxi") / "data"
    command = [
        sys.executable,
        os.path.join(TAXI, "generate_data.py"),
        "--rows",
        str(ROWS),
        "--seed",
        str(SEED),
        "--output",
        str(folder),
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("wrote") == 2
    return folder


def test_generator_is_deterministic_and_span_two_drifts_as_documented(data, tmp_path):
    import pandas as pd

    generate = _module("generate_data")
    assert generate.main(["--rows", str(ROWS), "--seed", str(SEED), "--output", str(tmp_path)]) == 0
    for span in (1, 2):
        assert (tmp_path / f"span-{span}" / "trips.csv").read_bytes() == (data / f"span-{span}" / "trips.csv").read_bytes()
    one, two = (pd.read_csv(data / f"span-{s}" / "trips.csv") for s in (1, 2))
    assert len(one) == len(two) == ROWS and list(one.columns) == list(two.columns)
    assert (
        two["trip_miles"].median() > one["trip_miles"].median()
        and (two["trip_miles"] > 12).mean() > 0.2 > (one["trip_miles"] > 12).mean()
    )
    assert "Prepaid" in set(two["payment_type"]) and "Prepaid" not in set(one["payment_type"])
    assert abs(one["trip_start_hour"].mean() - two["trip_start_hour"].mean()) < 0.5
    for frame in (one, two):
        assert 0.1 < frame["company"].isna().mean() < 0.2 and frame["trip_miles"].notna().all()
        assert set(frame["big_tip"]) == {0, 1}


def test_generator_writes_where_the_pipeline_reads_by_default(monkeypatch, tmp_path):
    monkeypatch.setenv("TAXI_DATA", str(tmp_path / "shared"))
    assert _module("generate_data").main(["--rows", "5"]) == 0
    assert sorted(os.listdir(tmp_path / "shared")) == ["span-1", "span-2"]
    assert (tmp_path / "shared" / "span-2" / "trips.csv").read_text().count("\n") == 6  # header and 5 rows


def test_generator_rejects_a_bad_row_count(tmp_path):
    out = subprocess.run([sys.executable, os.path.join(TAXI, "generate_data.py"), "--rows", "0", "--output", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 2 and "--rows must be at least 1" in out.stderr
    assert not os.listdir(tmp_path)


def _stats(artifact_id: int, span: int) -> ExampleStatistics:
    artifact = ExampleStatistics(uri=f"/stats/{artifact_id}")
    artifact.id = artifact_id
    artifact.span = span
    return artifact


def test_previous_span_strategy_picks_the_newest_artifact_of_the_span_before():
    strategy = _module("span_baseline").PreviousSpanStrategy()
    history = [_stats(1, 1), _stats(2, 2), _stats(3, 1), _stats(4, 3), _stats(5, 2)]
    chosen = strategy.resolve_artifacts(None, {"current": [history[4]], "history": history})
    assert [a.id for a in chosen["current"]] == [5] and [a.id for a in chosen["history"]] == [3]  # span 1's newest
    latest = strategy.resolve_artifacts(None, {"current": [history[3]], "history": history})
    assert [a.id for a in latest["history"]] == [5]  # span 3 against span 2, never against itself or span 1
    first = strategy.resolve_artifacts(None, {"current": [history[0]], "history": history})
    assert first["history"] == []  # span 1 has nothing before it: validation runs without drift
    assert strategy.resolve_artifacts(None, {"current": [], "history": history}) == {"current": [], "history": []}


def test_previous_span_strategy_rejects_other_channels_when_compiling(tmp_path):
    strategy_class = _module("span_baseline").PreviousSpanStrategy
    from pipelinekit import Channel

    node = Resolver(strategy_class=strategy_class, statistics=Channel(type=ExampleStatistics)).with_id("baseline")
    with pytest.raises(CompileError, match="PreviousSpanStrategy takes the channels current= and history=, got statistics"):
        compile_pipeline(Pipeline("bad", str(tmp_path), [node]))


def test_a_span_that_is_not_a_number_is_a_definition_error(monkeypatch, data):
    monkeypatch.setenv("TAXI_DATA", str(data))
    monkeypatch.setenv("TAXI_SPAN", "two")
    with pytest.raises(DefinitionError, match="TAXI_SPAN must be a span number such as 1, got 'two'"):
        load_pipeline(PIPELINE_FILE)


def test_missing_data_says_how_to_make_it(monkeypatch, tmp_path):
    monkeypatch.setenv("TAXI_DATA", str(tmp_path / "absent"))
    with pytest.raises(DefinitionError, match=r"taxi data folder .*absent does not exist; write it with .*generate_data.py"):
        load_pipeline(PIPELINE_FILE)


def _run(monkeypatch, data, root, span: str | None):
    monkeypatch.setenv("TAXI_DATA", str(data))
    monkeypatch.setenv("TAXI_ROOT", str(root))
    if span is None:
        monkeypatch.delenv("TAXI_SPAN", raising=False)
    else:
        monkeypatch.setenv("TAXI_SPAN", span)
    result = LocalDagRunner().run(load_pipeline(PIPELINE_FILE))
    result.raise_for_failure()
    return result


def _anomalies(result) -> dict:
    """Per split: the anomaly kinds per feature, and the drift distances measured per feature."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    artifact = result.output("ExampleValidator", "anomalies")
    found = {}
    for split in artifact.splits:
        with open(os.path.join(artifact.split_uri(split), "SchemaDiff.pb"), "rb") as handle:
            diff = anomalies_pb2.Anomalies.FromString(handle.read())
        kinds = {
            name: {anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason} for name, info in diff.anomaly_info.items()
        }
        measured = {".".join(i.path.step): i.drift_measurements[0].value for i in diff.drift_skew_info}
        found[split] = (kinds, measured)
    return found


@pytest.mark.slow
def test_span_two_drift_is_reported_against_span_one(monkeypatch, data, tmp_path):
    root = tmp_path / "root"
    first = _run(monkeypatch, data, root, "1")
    assert first.output("CsvExampleGen", "examples").span == 1
    assert first.artifacts("previous_span_statistics", "history") == []
    anomalies = first.output("ExampleValidator", "anomalies")
    assert anomalies.span == 1 and anomalies.custom_properties["blessed"] == {"train": 1, "eval": 1}
    assert all(kinds == {} and measured == {} for kinds, measured in _anomalies(first).values())

    second = _run(monkeypatch, data, root, None)  # the latest span, 2
    span_one_stats = first.output("StatisticsGen", "statistics")
    assert second.output("CsvExampleGen", "examples").span == 2
    assert [a.id for a in second.artifacts("previous_span_statistics", "history")] == [span_one_stats.id]
    assert second.output("ExampleValidator", "anomalies").custom_properties["blessed"] == {"train": 0, "eval": 0}
    for split, (kinds, measured) in _anomalies(second).items():
        assert {name: kinds[name] & {kind} for name, kind in DRIFTED.items()} == {
            name: {kind} for name, kind in DRIFTED.items()
        }, split
        assert kinds["payment_type"] == {"ENUM_TYPE_UNEXPECTED_STRING_VALUES", "COMPARATOR_L_INFTY_HIGH"}, split
        assert not set(STABLE) & set(kinds), (split, kinds)
        assert set(measured) == {*DRIFTED, "payment_type", *STABLE}  # stable features were compared, and passed
        assert all(measured[name] < 0.05 for name in STABLE if name != "company") and measured["company"] < 0.1

    again = _run(monkeypatch, data, root, None)  # an identical rerun still compares span 2 with span 1
    assert again.nodes["StatisticsGen"].status == "cached" and again.nodes["ExampleValidator"].status == "cached"
    assert [a.id for a in again.artifacts("previous_span_statistics", "history")] == [span_one_stats.id]

    report, clean = _module("show_anomalies").anomalies_report(PIPELINE_FILE)
    assert not clean and report.startswith("span 2: anomalies found")
    assert "feature 'trip_miles': COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH" in report and "Prepaid" in report
    assert "measured: split 'train', feature 'trip_start_hour': JENSEN_SHANNON_DIVERGENCE" in report

    monkeypatch.setenv("TAXI_SPAN", "3")  # a span that was never written
    missing = LocalDagRunner().run(load_pipeline(PIPELINE_FILE))
    node = missing.nodes["CsvExampleGen"]
    assert node.status == "failed" and "matches pattern 'span-{SPAN}/*.csv' for span 3" in str(node.error.__cause__)
    assert missing.nodes["ExampleValidator"].status == "skipped"

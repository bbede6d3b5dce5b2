"""The report's parts without a browser or TensorFlow: layout, TFRecord reading, metrics scraping,
threshold parsing, run lookup and rendering of runs recorded through the metadata layer."""

from __future__ import annotations

import os
import re
import struct

import pytest
from synthetic_runs import add_chain_run, add_node, add_runs, start_run

from pipelinekit.dsl.metadata_config import sqlite_metadata
from pipelinekit.errors import MetadataError
from pipelinekit.metadata.store import MetadataStore
from pipelinekit.report.layout import layered_positions
from pipelinekit.report.render import render_report, run_page_values, write_report
from pipelinekit.report.run_view import find_run, read_run
from pipelinekit.report.summaries import thresholds_from_eval_config
from pipelinekit.report.tfrecord import _masked_crc, read_records
from pipelinekit.ui.server_metrics import parse_metrics


@pytest.fixture
def store(tmp_path):
    return MetadataStore(sqlite_metadata(str(tmp_path / "metadata.sqlite")))


def test_layers_follow_the_edges_and_a_cycle_does_not_hang():
    positions = layered_positions(["a", "b", "c", "d"], [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    assert positions["a"][0] == 0 and positions["b"][0] == positions["c"][0] == 1 and positions["d"][0] == 2
    assert positions["b"][1] != positions["c"][1]
    assert set(layered_positions(["x", "y"], [("x", "y"), ("y", "x")])) == {"x", "y"}


def _record(data: bytes) -> bytes:
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", _masked_crc(length)) + data + struct.pack("<I", _masked_crc(data))


def test_tfrecords_are_read_and_damage_is_named(tmp_path):
    path = tmp_path / "metrics-00000-of-00001"
    path.write_bytes(_record(b"first") + _record(b"second"))
    assert list(read_records(str(path))) == [b"first", b"second"]
    damaged = bytearray(path.read_bytes())
    damaged[14] ^= 0xFF
    path.write_bytes(bytes(damaged))
    with pytest.raises(MetadataError, match="checksum"):
        list(read_records(str(path)))
    path.write_bytes(_record(b"first")[:-3])
    with pytest.raises(MetadataError, match="cut"):
        list(read_records(str(path)))


def test_thresholds_come_from_tfma_eval_config_json():
    config = {"metricsSpecs": [{"metrics": [{"className": "ExampleCount"}, {"className": "SparseCategoricalAccuracy",
              "threshold": {"valueThreshold": {"lowerBound": 0.8}, "changeThreshold": {"absolute": -1e-10}}}]}]}  # fmt: skip
    assert thresholds_from_eval_config(config) == {"sparse_categorical_accuracy": {"lower": 0.8, "change": -1e-10}}


METRICS = """
# TYPE pipelinekit_serving_requests_total counter
pipelinekit_serving_requests_total{model="r",api="rest.predict",status="OK"} 8.0
pipelinekit_serving_requests_total{model="r",api="rest.predict",status="INVALID_ARGUMENT"} 2.0
# TYPE pipelinekit_route_target_calls_total counter
pipelinekit_route_target_calls_total{route="r",target="stable",status="OK"} 6.0
pipelinekit_route_target_calls_total{route="r",target="canary",status="UNAVAILABLE"} 1.0
# TYPE pipelinekit_route_target_latency_seconds histogram
pipelinekit_route_target_latency_seconds_bucket{route="r",target="stable",le="0.001"} 3.0
pipelinekit_route_target_latency_seconds_bucket{route="r",target="stable",le="0.01"} 6.0
pipelinekit_route_target_latency_seconds_bucket{route="r",target="stable",le="+Inf"} 6.0
pipelinekit_route_target_latency_seconds_count{route="r",target="stable"} 6.0
pipelinekit_route_target_latency_seconds_sum{route="r",target="stable"} 0.012
# TYPE pipelinekit_serving_model_versions_available gauge
pipelinekit_serving_model_versions_available{model="stable"} 1.0
# TYPE other_program_total counter
other_program_total 5.0
"""


def test_server_metrics_per_model_and_target():
    snapshot = parse_metrics(METRICS)
    assert (snapshot.models["r"].requests, snapshot.models["r"].errors) == (10.0, 2.0)
    stable = snapshot.targets[("r", "stable")]
    assert stable.requests == 6 and stable.errors == 0 and stable.mean_ms == pytest.approx(2.0)
    assert stable.quantile_ms(0.5) == pytest.approx(1.0) and stable.quantile_ms(0.99) == pytest.approx(10.0)
    assert snapshot.targets[("r", "canary")].error_rate == 1.0
    assert snapshot.versions == {"stable": 1} and snapshot.models["stable"].requests == 0


def test_runs_are_found_by_id_or_latest_and_a_wrong_id_lists_the_newest(store):
    add_runs(store, "p", 3)
    assert find_run(store, "latest")[1].run_id == "20260101-000002"
    assert find_run(store, "20260101-000001")[0] == "p"
    with pytest.raises(MetadataError, match="newest runs: 20260101-000002"):
        find_run(store, "20990101-000000")


def test_a_lineage_run_renders_every_edge_and_writes_atomically(store, tmp_path):
    run_id = add_chain_run(store, "chain", str(tmp_path), 40)
    name, record = find_run(store, run_id)
    run = read_run(store, name, record)
    assert len(run.nodes) == 20 and ("node_0000", "node_0001", "Examples") in run.edges()
    assert ("node_0000", "node_0001", "ExampleStatistics") in run.edges()
    values = run_page_values(run)
    assert [s.anchor for s in values["sections"]] == ["dag", "lineage"]
    lineage = values["sections"][1].values
    assert ("Examples #1", "node_0001") in lineage["edges"] and lineage["count"] == 40
    output = tmp_path / "report.html"
    assert write_report(store, run_id, str(output))[0] == run_id
    html = output.read_text()
    assert "node_0019" in html and "<script src=" not in html and "<link" not in html  # everything inline
    assert not [p for p in os.listdir(tmp_path) if ".partial-" in p]
    with pytest.raises(MetadataError, match="does not exist"):
        write_report(store, run_id, str(tmp_path / "missing" / "report.html"))


def test_a_missing_artifact_file_is_named(store, tmp_path):
    from pipelinekit.report.readers import read_json

    with pytest.raises(MetadataError, match="tuner_results.json"):
        read_json(str(tmp_path / "tuner_results.json"), "Tuner results")
    assert "<script" in render_report(read_run(store, *find_run(store, add_chain_run(store, "c", str(tmp_path), 4))))


def test_a_failed_node_shows_its_error_and_hostile_text_stays_text(store, tmp_path):
    from pipelinekit.metadata.store import NODE, PIPELINE, node_context_name

    hostile = "</script><script>alert('x')</script>"
    contexts = [store.context(PIPELINE, "p"), store.start_run("p", "r1", {"status": "FAILED", "error": hostile}),
                store.context(NODE, node_context_name("p", "Trainer"))]  # fmt: skip
    execution = store.register_execution("Trainer", contexts, {}, {"node_id": "Trainer", "started_at": 1.0})
    store.fail_execution(execution, contexts, {"finished_at": 3.5, "error": f"ValueError: {hostile}"})
    html = render_report(read_run(store, *find_run(store, "r1")))
    assert hostile not in html and "&lt;/script&gt;&lt;script&gt;alert" in html
    run = read_run(store, *find_run(store, "r1"))
    assert (run.nodes[0].state, run.nodes[0].seconds) == ("FAILED", 2.5) and "ValueError" in run.nodes[0].reason


def test_a_large_graph_is_drawn_on_a_capped_canvas():
    from pipelinekit.report.charts import MAX_WIDTH, graph_chart

    nodes = [{"id": f"n{i}", "label": f"n{i}", "color": "#000", "shape": "circle"} for i in range(400)]
    spec = graph_chart(nodes, [(f"n{i}", f"n{i + 1}") for i in range(399)])
    assert spec["usermeta"]["renderer"] == "canvas" and spec["width"] == MAX_WIDTH
    assert graph_chart(nodes[:3], [("n0", "n1")])["usermeta"]["renderer"] == "svg"


def test_the_commands_name_what_is_missing(store, tmp_path, capsys):
    from pipelinekit.cli import main

    add_runs(store, "p", 1)
    assert main(["report", "latest"]) == 2
    assert "--metadata PATH" in capsys.readouterr().err
    assert main(["report", "latest", "--metadata", str(tmp_path / "nope.sqlite")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["ui", "--metadata", store.config.path, "--admin_port", "9"]) == 2
    assert "--admin_token_file go together" in capsys.readouterr().err
    assert main(["report", "latest", "--metadata", store.config.path, "-o", str(tmp_path / "r.html")]) == 0
    assert "20260101-000000" in (tmp_path / "r.html").read_text()


def _skew_protos():
    from pipelinekit.report.readers import _proto_module

    return _proto_module("tensorflow-data-validation", "tensorflow_data_validation.skew.protos.feature_skew_results_pb2")


def _write_records(path, messages) -> None:
    path.write_bytes(b"".join(_record(m.SerializeToString()) for m in messages))


def _example_diff_run(store, tmp_path) -> tuple[str, dict]:
    """A run with one ExamplesDiff in TFX's layout: pair ``train_train`` complete (two skewed
    features, one equal, 8 confusion rows), ``eval_eval`` without its match stats and
    ``eval_train`` with damaged skew records."""
    from pipelinekit.types.standard import ExamplesDiff

    pb = _skew_protos()
    diff = ExamplesDiff(str(tmp_path / "diff"))
    folders = {name: tmp_path / "diff" / f"SplitPair-{name}" for name in ("train_train", "eval_eval", "eval_train")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    skew = [
        pb.FeatureSkew(feature_name="x", base_count=90, test_count=90, match_count=81, mismatch_count=9, diff_count=9),
        pb.FeatureSkew(feature_name="id", base_count=90, test_count=90, match_count=90),
        pb.FeatureSkew(feature_name="colour", base_count=90, test_count=88, match_count=75, mismatch_count=13, base_only=2, diff_count=15),
        pb.FeatureSkew(feature_name="y", base_count=90, test_count=90, match_count=77, mismatch_count=13, diff_count=13),
    ]  # fmt: skip
    match = pb.MatchStats(base_with_id_count=100, test_with_id_count=95, identifiers_count=105, matching_pairs_count=90,
                          ids_missing_in_test_count=10, ids_missing_in_base_count=5)  # fmt: skip
    confusion = []
    for index in range(8):
        count = pb.ConfusionCount(feature_name="colour", count=10 + index)
        count.base.bytes_value, count.test.bytes_value = f"c{index}".encode(), f"c{index % 3}".encode()
        confusion.append(count)
    _write_records(folders["train_train"] / "skew_stats-00000-of-00002", skew[:2])
    _write_records(folders["train_train"] / "skew_stats-00001-of-00002", skew[2:])
    _write_records(folders["train_train"] / "match_stats-00000-of-00001", [match])
    _write_records(folders["train_train"] / "confusion-00000-of-00001", confusion)
    _write_records(folders["eval_eval"] / "skew_stats-00000-of-00001", skew)
    _write_records(folders["eval_train"] / "match_stats-00000-of-00001", [match])
    damaged = bytearray(_record(skew[0].SerializeToString()))
    damaged[20] ^= 0xFF
    (folders["eval_train"] / "skew_stats-00000-of-00001").write_bytes(bytes(damaged))
    run_context = start_run(store, "d", "r1")
    add_node(store, "d", "r1", run_context, "ExampleDiff", {}, {"example_diff_result": [diff]})
    return "r1", {"confusion": confusion}


def test_example_diff_section_shows_skew_most_mismatched_first_and_names_bad_files(store, tmp_path):
    run_id, written = _example_diff_run(store, tmp_path)
    run = read_run(store, *find_run(store, run_id))
    [section] = [s for s in run_page_values(run)["sections"] if s.anchor == "example_diff"]
    [group] = section.values["groups"]
    pairs = {p["name"]: p for p in group["pairs"]}
    assert list(pairs) == ["eval_eval", "eval_train", "train_train"]
    good = pairs["train_train"]
    assert [(f["feature"], f["mismatch"], f["diff"]) for f in good["skewed"]] == [("colour", 13, 15), ("y", 13, 13), ("x", 9, 9)]
    assert good["skewed"][0]["base_only"] == 2 and good["skewed"][0]["share"] == pytest.approx(15 / 90)
    assert good["equal"] == ["id"]
    assert (
        good["match"]["matched pairs"] == 90
        and good["match"]["ids only in base"] == 10
        and good["match"]["ids only in test"] == 5
    )
    [colour] = good["confusion"]
    changed = [c for c in written["confusion"] if c.base.bytes_value != c.test.bytes_value]
    assert colour["pairs"] == sum(c.count for c in written["confusion"]) and colour["changed"] == sum(c.count for c in changed)
    assert len(colour["top"]) == 5 and len(colour["rest"]) == 3
    assert [r["count"] for r in colour["top"]] == sorted((c.count for c in changed), reverse=True)[:5]
    assert "no match_stats records" in pairs["eval_eval"]["error"] and "SplitPair-eval_eval" in pairs["eval_eval"]["error"]
    assert "checksum" in pairs["eval_train"]["error"] and "skew_stats-00000-of-00001" in pairs["eval_train"]["error"]
    html = render_report(run)
    assert 'id="example_diff"' in html and "3 more value pairs" in html and "no match_stats records" in html
    row = re.search(r'<tr class="pk-skew-row" data-feature="colour">(.*?)</tr>', html, re.S)
    assert row and re.findall(r">([\d.,%]+)<", row.group(1)) == ["90", "88", "75", "13", "2", "0", "15", "16.7%"]


def test_an_example_diff_without_split_pairs_says_so_and_reading_loads_no_tensorflow(store, tmp_path):
    import subprocess
    import sys

    from pipelinekit.types.standard import ExamplesDiff

    (tmp_path / "empty").mkdir()
    run_context = start_run(store, "d", "r2")
    add_node(store, "d", "r2", run_context, "ExampleDiff", {}, {"example_diff_result": [ExamplesDiff(str(tmp_path / "empty"))]})
    [section] = [s for s in run_page_values(read_run(store, *find_run(store, "r2")))["sections"] if s.anchor == "example_diff"]
    assert "no SplitPair-<test>_<base> folders" in section.values["groups"][0]["error"]
    _example_diff_run(store, tmp_path)
    code = (
        "import sys\n"
        "from pipelinekit.report.readers import read_example_diff\n"
        f"assert read_example_diff({str(tmp_path / 'diff' / 'SplitPair-train_train')!r}).match.matching_pairs_count == 90\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'apache_beam', 'tensorflow_data_validation', 'tfx_bsl'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

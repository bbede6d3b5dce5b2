"""CsvExampleGen and ImportExampleGen: content, splits, spans, both execution paths, bad input."""

from __future__ import annotations

import json
import os
import re

import pytest
from data_fixtures import PENGUIN_COLUMNS, penguins_csv_text, penguins_frame, read_examples
from pipelinekit.components.example_gen.input_resolution import resolve_input
from pipelinekit.components.util.errors import InputDataError

from pipelinekit import LocalDagRunner, Pipeline
from pipelinekit.errors import CompileError
from pipelinekit.tfx import proto


def _run_gen(root, data, component=None, **arguments):
    from pipelinekit.components import CsvExampleGen

    node = (component or CsvExampleGen)(input_base=str(data), **arguments)
    return LocalDagRunner().run(Pipeline("gen", str(root), [node]))


def test_default_split_is_two_to_one_and_sums_to_the_rows(data_run):
    examples = data_run.output("CsvExampleGen", "examples")
    assert json.loads(examples.split_names) == ["train", "eval"]
    sizes = {s: len(read_examples(examples.split_uri(s))) for s in ("train", "eval")}
    assert sizes["train"] + sizes["eval"] == len(penguins_frame()) == 344
    expected, sigma = 344 * 2 / 3, (344 * 2 / 3 * 1 / 3) ** 0.5  # a hash split is binomial
    assert abs(sizes["train"] - expected) < 4 * sigma
    assert os.listdir(examples.split_uri("train")) == ["data_tfrecord-00000-of-00001.gz"]
    custom = examples.custom_properties
    assert (examples.span, custom["span"], custom["payload_format"], custom["file_format"]) == (
        1,
        1,
        "FORMAT_TF_EXAMPLE",
        "tfrecords_gzip",
    )
    assert re.fullmatch(r"split:all,num_files:1,total_bytes:\d+,xor_checksum:\d+,sum_checksum:\d+", custom["input_fingerprint"])


def test_columns_get_tfx_types_and_empty_cells_are_empty_typed_lists(data_run):
    examples = data_run.output("CsvExampleGen", "examples")
    rows = read_examples(examples.split_uri("train")) + read_examples(examples.split_uri("eval"))
    first = rows[0].features.feature
    assert first["species"].WhichOneof("kind") == "bytes_list"
    assert first["year"].WhichOneof("kind") == "int64_list"
    frame = penguins_frame()
    for column, kind in [("bill_length_mm", "float_list"), ("flipper_length_mm", "int64_list"), ("sex", "bytes_list")]:
        assert all(r.features.feature[column].WhichOneof("kind") == kind for r in rows), f"{column}: an untyped feature"
        values = [getattr(r.features.feature[column], kind).value for r in rows]
        assert sum(len(v) == 0 for v in values) == frame[column].isna().sum()
        present = [v[0] for v in values if v]
        if kind != "bytes_list":
            assert sum(present) == pytest.approx(frame[column].sum(), rel=1e-5)


def test_beam_and_in_process_paths_write_the_same_records(tmp_path, penguin_data, monkeypatch):
    written = {}
    for path in ("beam", "in_process"):
        monkeypatch.setenv("PIPELINEKIT_DATA_PATH", path)
        result = _run_gen(
            tmp_path / path, penguin_data, input_config=proto.Input(splits=[proto.Input.Split(name="x", pattern="span-*/*")])
        )
        examples = result.output("CsvExampleGen", "examples")
        written[path] = {
            s: sorted(e.SerializeToString(deterministic=True) for e in read_examples(examples.split_uri(s)))
            for s in examples.splits
        }
    assert written["beam"] == written["in_process"]
    assert sum(len(v) for v in written["beam"].values()) == 344


def test_named_ratios_and_partition_feature(tmp_path, penguin_data):
    config = proto.SplitConfig(
        splits=[proto.SplitConfig.Split(name="a", hash_buckets=3), proto.SplitConfig.Split(name="b", hash_buckets=1)],
        partition_feature_name="island",
    )
    result = _run_gen(
        tmp_path,
        penguin_data,
        input_config=proto.Input(splits=[proto.Input.Split(name="x", pattern="span-1/*")]),
        output_config=proto.Output(split_config=config),
    )
    examples = result.output("CsvExampleGen", "examples")
    islands = {
        s: {e.features.feature["island"].bytes_list.value[0] for e in read_examples(examples.split_uri(s))} for s in ("a", "b")
    }
    assert islands["a"].isdisjoint(islands["b"]) and islands["a"] | islands["b"] == {b"Biscoe", b"Dream", b"Torgersen"}


def test_pre_split_input_keeps_its_splits_in_import_example_gen(tmp_path, data_run):
    from pipelinekit.components import ImportExampleGen

    source = data_run.output("CsvExampleGen", "examples")
    config = proto.Input(splits=[proto.Input.Split(name=s, pattern=f"Split-{s}/*") for s in ("train", "eval")])
    result = _run_gen(tmp_path, source.uri, component=ImportExampleGen, input_config=config)
    imported = result.output("ImportExampleGen", "examples")
    assert imported.splits == ["train", "eval"]
    for split in ("train", "eval"):
        assert len(read_examples(imported.split_uri(split))) == len(read_examples(source.split_uri(split)))


def _touch(folder, *names):
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("a\n1\n")


def test_latest_span_and_version_win_and_static_range_picks_a_span(tmp_path):
    _touch(tmp_path, "s01/v1/d.csv", "s02/v1/d.csv", "s02/v3/d.csv", "s10/v2/d.csv", "s10/v2/e.csv")
    resolved = resolve_input(str(tmp_path), {"x": "s{SPAN:2}/v{VERSION}/*.csv"})
    assert (resolved.span, resolved.version) == (10, 2)
    assert resolved.patterns["x"] == str(tmp_path / "s10/v2/*.csv")
    assert "num_files:2" in resolved.fingerprint
    assert resolve_input(str(tmp_path), {"x": "s{SPAN:2}/v{VERSION}/*.csv"}, static_span=2).version == 3
    with pytest.raises(InputDataError, match="for span 7"):
        resolve_input(str(tmp_path), {"x": "s{SPAN:2}/v{VERSION}/*.csv"}, static_span=7)


def test_date_patterns_become_days_since_epoch_and_splits_must_agree(tmp_path):
    _touch(tmp_path, "day-19700102/a.csv", "day-20240101/a.csv", "other-19700105/a.csv")
    resolved = resolve_input(str(tmp_path), {"x": "day-{YYYY}{MM}{DD}/*"})
    assert resolved.span == 19723  # 2024-01-01
    with pytest.raises(InputDataError, match="latest span should be the same for each split"):
        resolve_input(str(tmp_path), {"a": "day-{YYYY}{MM}{DD}/*", "b": "other-{YYYY}{MM}{DD}/*"})
    with pytest.raises(InputDataError, match="together"):
        resolve_input(str(tmp_path), {"a": "day-{YYYY}{MM}/*"})


BAD_INPUTS = [
    ("nothing_matches", {"data.txt": "a\n1\n"}, r"no file under .* matches pattern 'span-\{SPAN\}/\*.csv'.*data.txt"),
    ("empty_file", {"span-1/x.csv": ""}, r"CSV file .*x.csv is empty"),
    ("header_only", {"span-1/x.csv": "a,b\n"}, r"CSV file .*x.csv has a header but no rows"),
    (
        "ragged_row",
        {"span-1/x.csv": "a,b\n1,2\n3\n4,5\n"},
        r"CSV file .*x.csv, line 3: expected 2 fields as in the header, found 1",
    ),
    (
        "type_changes_between_files",
        {"span-1/x.csv": "a,b\n1,2\n", "span-1/y.csv": "a,b\nz,2\n"},
        r"column 'a' holds numbers in .*x.csv but text in .*y.csv",
    ),
    ("different_headers", {"span-1/x.csv": "a,b\n1,2\n", "span-1/y.csv": "a,c\n1,2\n"}, r"have different headers"),
]


def _write_files(data, files):
    for name, text in files.items():
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        (data / name).write_text(text, newline="")


@pytest.mark.parametrize("path", ["in_process", "beam"])
@pytest.mark.parametrize(("case", "files", "message"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_fails_the_node_naming_the_file_and_publishes_nothing(tmp_path, monkeypatch, path, case, files, message):
    monkeypatch.setenv("PIPELINEKIT_DATA_PATH", path)
    data = tmp_path / "data"
    _write_files(data, files)
    root = tmp_path / "root"
    result = _run_gen(root, data, input_config=proto.Input(splits=[proto.Input.Split(name="x", pattern="span-{SPAN}/*.csv")]))
    node = result.nodes["CsvExampleGen"]
    assert node.status == "failed"
    assert re.search(message, str(node.error.__cause__)), str(node.error.__cause__)
    assert not os.path.exists(root / "CsvExampleGen" / "examples") or not os.listdir(root / "CsvExampleGen" / "examples")


EDGE_INPUTS = {
    "quoted_newline": ({"x.csv": 'a,b\n1,"hello\nworld"\n2,z\n'}, [{"a": [1], "b": [b"hello\nworld"]}, {"a": [2], "b": [b"z"]}]),
    "bom_crlf": ({"x.csv": "\ufeffa,b\r\n1,x\r\n2,y\r\n"}, [{"a": [1], "b": [b"x"]}, {"a": [2], "b": [b"y"]}]),
    # an empty cell is an empty list of the column's type, as TFX writes it
    "int_and_float_files": ({"x.csv": "a,b\n1,2\n", "y.csv": "a,b\n1.5,\n"}, [{"a": [1.0], "b": [2]}, {"a": [1.5], "b": []}]),
    "column_empty_everywhere": ({"x.csv": "a,b\n1,\n2,\n"}, [{"a": [1]}, {"a": [2]}]),
}


def _values(example):
    features = example.features.feature
    return {k: list(getattr(f, f.WhichOneof("kind")).value) for k, f in features.items() if f.WhichOneof("kind")}


@pytest.mark.parametrize("case", list(EDGE_INPUTS))
def test_both_paths_type_and_write_edge_cases_the_same(tmp_path, monkeypatch, case):
    files, expected = EDGE_INPUTS[case]
    _write_files(tmp_path / "data", files)
    config = proto.Output(split_config=proto.SplitConfig(splits=[proto.SplitConfig.Split(name="all", hash_buckets=1)]))
    written = {}
    for path in ("beam", "in_process"):
        monkeypatch.setenv("PIPELINEKIT_DATA_PATH", path)
        examples = _run_gen(tmp_path / path, tmp_path / "data", output_config=config).output("CsvExampleGen", "examples")
        written[path] = sorted(e.SerializeToString(deterministic=True) for e in read_examples(examples.split_uri("all")))
        got = sorted((_values(e) for e in read_examples(examples.split_uri("all"))), key=lambda v: (v["a"], v.get("b", [])))
        assert got == expected, path
    assert written["beam"] == written["in_process"]


def test_a_missing_input_base_is_a_compile_error_naming_it(tmp_path):
    with pytest.raises(CompileError, match="input_base"):
        _run_gen(tmp_path / "root", tmp_path / "no_such_folder")


def test_bom_and_crlf_are_read_as_plain_csv(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    text = penguins_csv_text().replace("\n", "\r\n")
    (data / "penguins.csv").write_bytes("\ufeff".encode() + text.encode())
    result = _run_gen(tmp_path / "root", data)
    examples = result.output("CsvExampleGen", "examples")
    rows = read_examples(examples.split_uri("train")) + read_examples(examples.split_uri("eval"))
    assert len(rows) == 344
    assert set(rows[0].features.feature) == set(PENGUIN_COLUMNS)
    assert all(not v.endswith(b"\r") for r in rows for v in r.features.feature["sex"].bytes_list.value)


def test_types_are_inferred_over_all_blocks_of_a_streamed_file(tmp_path, monkeypatch):
    from pipelinekit.components.example_gen import csv_io

    monkeypatch.setattr(csv_io, "BLOCK_BYTES", 64)  # many small batches
    lines = ["n,late,mixed"] + [f"{i},,{i}" for i in range(40)] + ["40,2.5,x"]
    path = tmp_path / "d.csv"
    path.write_text("\n".join(lines) + "\n")
    header, types = csv_io.infer_column_types([str(path)])
    assert types == {"n": "int", "late": "float", "mixed": "string"}
    batches = list(csv_io.record_batches([str(path)], header, types))
    assert len(batches) > 3 and sum(b.num_rows for b in batches) == 41
    assert batches[-1].column(2).to_pylist()[-1] == [b"x"]


@pytest.mark.parametrize("path", ["in_process", "beam"])
def test_import_example_gen_rejects_records_that_are_not_examples(tmp_path, monkeypatch, path):
    import tensorflow as tf

    monkeypatch.setenv("PIPELINEKIT_DATA_PATH", path)

    from pipelinekit.components import ImportExampleGen

    (tmp_path / "data").mkdir()
    with tf.io.TFRecordWriter(str(tmp_path / "data" / "r.tfrecord")) as writer:
        writer.write(b"\xff\xfe not a proto")
    result = _run_gen(tmp_path / "root", tmp_path / "data", component=ImportExampleGen)
    node = result.nodes["ImportExampleGen"]
    assert node.status == "failed" and re.search(r"records in .*r.tfrecord are not tf.Examples", str(node.error.__cause__))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {
                "output_config": proto.Output(
                    split_config=proto.SplitConfig(splits=[proto.SplitConfig.Split(name="a", hash_buckets=0)])
                )
            },
            r"hash_buckets > 0",
        ),
        (
            {
                "input_config": proto.Input(
                    splits=[proto.Input.Split(name="a", pattern="*"), proto.Input.Split(name="b", pattern="*")]
                ),
                "output_config": proto.Output(
                    split_config=proto.SplitConfig(splits=[proto.SplitConfig.Split(name="t", hash_buckets=1)])
                ),
            },
            r"split_config needs exactly one input split",
        ),
        (
            {
                "input_config": proto.Input(
                    splits=[proto.Input.Split(name="a", pattern="*"), proto.Input.Split(name="a", pattern="x")]
                )
            },
            r"unique, non-empty names",
        ),
        (
            {"range_config": proto.RangeConfig(static_range=proto.StaticRange(start_span_number=1, end_span_number=2))},
            r"start_span_number == end_span_number",
        ),
    ],
    ids=["zero_buckets", "split_config_with_two_inputs", "duplicate_input_names", "range_of_spans"],
)
def test_bad_split_and_range_configs_fail_with_a_clear_message(tmp_path, arguments, message):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "d.csv").write_text("a\n1\n")
    node = _run_gen(tmp_path / "root", tmp_path / "data", **arguments).nodes["CsvExampleGen"]
    assert node.status == "failed" and re.search(message, str(node.error.__cause__)), str(node.error.__cause__)

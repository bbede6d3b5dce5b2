"""Parquet payloads: TFX's ``ImportExampleGen(payload_format=FORMAT_PARQUET)`` on palmerpenguins,
then StatisticsGen (both paths) and SchemaGen; Transform refuses them by name."""

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
                examples=example_gen.outputs["examples"], schema=schema_gen.outputs["schema"], module_file=module_file
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
    transform = result.nodes["Transform"]
    assert transform.status == "failed" and "payload_format FORMAT_PARQUET" in str(transform.error)

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

"""A TFX pipeline file whose only change is ``from pipelinekit import tfx`` runs the data components."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from pipelinekit import tfx
from pipelinekit.dsl.loader import load_pipeline
from pipelinekit.tfx.utils.proto_utils import proto_to_json


@tfx.dsl.components.component
def RangeConfigGenerator(
    span: tfx.dsl.components.Parameter[int],  # noqa: N802 - TFX's example name
    range_config: tfx.dsl.components.OutputArtifact[tfx.types.standard_artifacts.String],
) -> None:
    static = tfx.proto.StaticRange(start_span_number=span, end_span_number=span)
    range_config.value = proto_to_json(tfx.proto.RangeConfig(static_range=static))


PIPELINE_FILE = """
import os

from pipelinekit import tfx

_root = os.path.dirname(os.path.abspath(__file__))


def _create_pipeline(pipeline_name, pipeline_root, data_root, module_file, metadata_path):
    example_gen = tfx.components.CsvExampleGen(input_base=data_root)
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"], infer_feature_shape=True)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"])
    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"], schema=schema_gen.outputs["schema"], module_file=module_file,
        custom_config={"top_k": 3}, splits_config=tfx.proto.SplitsConfig(analyze=["train"], transform=["train", "eval"]),
        disable_statistics=True)
    return tfx.dsl.Pipeline(
        pipeline_name=pipeline_name,
        pipeline_root=pipeline_root,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(metadata_path),
        components=[example_gen, statistics_gen, schema_gen, example_validator, transform],
        enable_cache=True,
        beam_pipeline_args=["--direct_num_workers=1"],
    )


pipeline = _create_pipeline("penguin_tfx", os.path.join(_root, "tfx_root"), "data", "penguin_transform.py",
                            os.path.join(_root, "metadata", "metadata.db"))
"""


@pytest.fixture
def tfx_project(tmp_path, penguin_data, penguin_module):
    import shutil

    shutil.copytree(os.path.join(penguin_data, "span-1"), tmp_path / "data")
    shutil.copy(penguin_module, tmp_path / "penguin_transform.py")
    (tmp_path / "pipeline.py").write_text(PIPELINE_FILE)
    return tmp_path


def test_tfx_pipeline_file_runs_with_relative_paths_and_caches(tfx_project, monkeypatch):
    from pipelinekit import tfx

    monkeypatch.chdir("/")  # relative paths resolve against the pipeline file, not the working directory
    first = tfx.orchestration.LocalDagRunner().run(load_pipeline(str(tfx_project / "pipeline.py")))
    ids = ["CsvExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "Transform"]
    assert [first.nodes[i].status for i in ids] == ["ran"] * 5
    assert sorted(os.listdir(tfx_project / "tfx_root")) == sorted(ids)
    database = tfx_project / "metadata" / "metadata.db"
    count = sqlite3.connect(database).execute("select count(*) from Execution").fetchone()[0]
    assert count == 5
    second = tfx.orchestration.LocalDagRunner().run(load_pipeline(str(tfx_project / "pipeline.py")))
    assert {second.nodes[i].status for i in ids} == {"cached"}


def test_tfx_runner_raises_when_a_component_fails(tmp_path):
    from pipelinekit import tfx
    from pipelinekit.errors import RunError

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.csv").write_text("a,b\n")
    pipeline = tfx.dsl.Pipeline(
        "p", str(tmp_path / "root"), components=[tfx.components.CsvExampleGen(input_base=str(tmp_path / "data"))]
    )
    with pytest.raises(RunError, match=r"node 'CsvExampleGen'.*x.csv has a header but no rows"):
        tfx.orchestration.LocalDagRunner().run(pipeline)


def test_facade_names_match_tfx_v1_and_load_lightly():
    code = (
        "import sys\nfrom pipelinekit import tfx\n"
        "names = [tfx.dsl.Pipeline, tfx.dsl.ExecutionMode, tfx.dsl.Importer, tfx.dsl.Channel, tfx.dsl.components.component, tfx.dsl.components.Parameter,\n"
        "         tfx.dsl.io.fileio.glob, tfx.types.standard_artifacts.String, tfx.orchestration.LocalDagRunner,\n"
        "         tfx.orchestration.metadata.sqlite_metadata_connection_config, tfx.utils.parse_pbtxt_file, tfx.proto.TrainArgs,\n"
        "         tfx.components.CsvExampleGen, tfx.components.Transform]\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'tensorflow_model_analysis', 'apache_beam', 'tensorflow_transform'}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
    )
    assert out.stdout.strip() == "[]"


def test_metadata_connection_config_maps_onto_pipelinekit(tmp_path):
    from pipelinekit import tfx

    mysql = tfx.orchestration.metadata.mysql_metadata_connection_config("db.local", 3307, "mlmd", "me", "secret")
    pipeline = tfx.dsl.Pipeline("p", str(tmp_path), metadata_connection_config=mysql)
    assert pipeline.metadata.describe() == "mysql://me@db.local:3307/mlmd"
    assert pipeline.enable_cache is False  # TFX's default
    with pytest.raises(Exception, match="pipeline_root is required"):
        tfx.dsl.Pipeline("p")


def test_execution_mode_sync_is_accepted_and_async_refused(tmp_path):
    from pipelinekit.errors import DefinitionError

    assert [m.name for m in tfx.dsl.ExecutionMode] == ["SYNC", "ASYNC"] and tfx.dsl.ExecutionMode.SYNC.value == 1
    tfx.dsl.Pipeline("p", str(tmp_path), execution_mode=tfx.dsl.ExecutionMode.SYNC)
    with pytest.raises(DefinitionError, match=r"runs pipelines synchronously; use ExecutionMode.SYNC"):
        tfx.dsl.Pipeline("p", str(tmp_path), execution_mode=tfx.dsl.ExecutionMode.ASYNC)


def test_range_config_from_an_upstream_component_picks_the_span(tmp_path):
    """TFX's penguin pattern: a component writes a RangeConfig as a String; ExampleGen takes
    ``.future()[0].value`` and reads that span instead of the latest."""
    for span, rows in ((1, "1,x\n2,y\n"), (2, "3,x\n")):
        (tmp_path / f"span-{span}").mkdir()
        (tmp_path / f"span-{span}" / "d.csv").write_text("a,b\n" + rows)

    generator = RangeConfigGenerator(span=1)
    gen = tfx.components.CsvExampleGen(
        input_base=str(tmp_path),
        input_config=tfx.proto.Input(splits=[tfx.proto.Input.Split(name="x", pattern="span-{SPAN}/*")]),
        range_config=generator.outputs["range_config"].future()[0].value,
    )
    result = tfx.orchestration.LocalDagRunner().run(tfx.dsl.Pipeline("p", str(tmp_path / "root"), components=[generator, gen]))
    examples = result.output("CsvExampleGen", "examples")
    assert examples.span == 1 and examples.custom_properties["span"] == 1

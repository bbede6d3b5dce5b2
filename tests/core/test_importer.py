"""The importer: existing data registered in place, cached on its content, with clear errors."""

from __future__ import annotations

import os

import pytest
from toy_components import Numbers, read_numbers, scale

from pipelinekit import CompileError, LocalDagRunner, Pipeline, Schema, compile_pipeline, importer
from pipelinekit.errors import DefinitionError


def imported(tmp_path, pipeline_root, **kwargs):
    data = importer(str(tmp_path / "data"), Numbers, **kwargs).with_id("import_numbers")
    return Pipeline("imports", pipeline_root, [scale(numbers=data.outputs["result"], factor=10.0)])


def test_imported_data_is_registered_in_place_and_feeds_downstream(tmp_path, pipeline_root):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "values.json").write_text("[1, 2]")
    result = LocalDagRunner().run(imported(tmp_path, pipeline_root, custom_properties={"source": "survey"}))
    result.raise_for_failure()
    artifact = result.output("import_numbers", "result")
    assert artifact.uri == str(tmp_path / "data") and artifact.custom_properties["source"] == "survey"
    assert read_numbers(result.output("scale", "scaled")) == [10.0, 20.0]
    assert not os.path.exists(os.path.join(pipeline_root, "import_numbers"))


def test_changed_source_data_reruns_the_importer_and_downstream(tmp_path, pipeline_root):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "values.json").write_text("[1, 2]")
    LocalDagRunner().run(imported(tmp_path, pipeline_root))
    assert {r.status for r in LocalDagRunner().run(imported(tmp_path, pipeline_root)).nodes.values()} == {"cached"}
    (tmp_path / "data" / "values.json").write_text("[3]")
    result = LocalDagRunner().run(imported(tmp_path, pipeline_root))
    assert result.nodes["import_numbers"].reason == "content of 'source_uri' changed"
    assert read_numbers(result.output("scale", "scaled")) == [30.0]


def test_a_missing_source_or_wrong_property_is_named(tmp_path, pipeline_root):
    with pytest.raises(CompileError, match=r"node 'import_numbers', parameter 'source_uri': path .*data does not exist"):
        compile_pipeline(imported(tmp_path, pipeline_root))
    (tmp_path / "data").mkdir()
    with pytest.raises(DefinitionError, match=r"importer of Numbers: it has no property 'span' .*custom_properties"):
        imported(tmp_path, pipeline_root, properties={"span": 1})  # refused when declared, before anything runs
    with pytest.raises(DefinitionError, match=r"importer of Schema: it has no property 'bogus'"):
        importer(str(tmp_path / "data"), Schema, properties={"bogus": 1})
    assert os.path.isdir(tmp_path / "data")


def test_a_schema_can_be_imported_with_its_standard_type(tmp_path, pipeline_root):
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "schema.pbtxt").write_text('feature { name: "x" type: FLOAT }\n')
    node = importer(str(tmp_path / "schema"), Schema).with_id("import_schema")
    result = LocalDagRunner().run(Pipeline("schema", pipeline_root, [node]))
    assert result.output("import_schema", "result").TYPE_NAME == "Schema"

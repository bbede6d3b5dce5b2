"""SchemaGen and ImportSchemaGen with TFX's constructors and output ``schema``."""

from __future__ import annotations

from pipelinekit.components.util.arguments import given

from pipelinekit.dsl.component import Component
from pipelinekit.dsl.node import Channel
from pipelinekit.dsl.spec import InputSpec, OutputSpec, ParameterSpec
from pipelinekit.types.annotations import ExternalPath
from pipelinekit.types.standard import ExampleStatistics, Schema

__all__ = ["SchemaGen", "ImportSchemaGen"]


class SchemaGen(Component):
    """A schema inferred by TFDV from the statistics of each non-excluded split (``schema.pbtxt``)."""

    EXECUTOR = "pipelinekit.components.schema_gen.executor:run_schema_gen"
    statistics = InputSpec(ExampleStatistics)
    schema = OutputSpec(Schema)
    infer_feature_shape = ParameterSpec(int, default=1)
    exclude_splits = ParameterSpec(list[str], default=[])

    def __init__(
        self, statistics: Channel, infer_feature_shape: bool | None = True, exclude_splits: list[str] | None = None
    ) -> None:
        shape = None if infer_feature_shape is None else int(bool(infer_feature_shape))
        super().__init__(**given(statistics=statistics, infer_feature_shape=shape, exclude_splits=exclude_splits))


class ImportSchemaGen(Component):
    """A curated schema file (text-format Schema) copied into a Schema artifact; its content
    is part of the cache key, so editing the file reruns everything downstream."""

    EXECUTOR = "pipelinekit.components.schema_gen.executor:run_import_schema_gen"
    schema = OutputSpec(Schema)
    schema_file = ParameterSpec(ExternalPath)

    def __init__(self, schema_file: str) -> None:
        super().__init__(**given(schema_file=schema_file))

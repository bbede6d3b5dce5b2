"""SchemaGen (a schema inferred from statistics) and ImportSchemaGen (a curated schema file)."""

from pipelinekit.components.schema_gen.component import ImportSchemaGen, SchemaGen

__all__ = ["SchemaGen", "ImportSchemaGen"]

"""SchemaGen and ImportSchemaGen executors."""

from __future__ import annotations

import os

from pipelinekit.components.util.errors import InputDataError
from pipelinekit.components.util.tfdv_io import STATS_FILE, load_schema, load_stats, selected_splits, write_schema

from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.types.standard import ExampleStatistics, Schema

__all__ = ["run_schema_gen", "run_import_schema_gen"]


def run_schema_gen(
    context: ExecutionContext,
    statistics: ExampleStatistics,
    schema: Schema,
    infer_feature_shape: int = 1,
    exclude_splits: list[str] | None = None,
) -> None:
    """``tfdv.infer_schema`` on the first split, ``tfdv.update_schema`` with each further one.
    A split with no examples is skipped (``update_schema`` would mark every feature deprecated)."""
    import tensorflow_data_validation as tfdv

    inferred = None
    splits = selected_splits(statistics, exclude_splits, "SchemaGen")
    for split in splits:
        stats = load_stats(os.path.join(statistics.split_uri(split), STATS_FILE))
        if not any(d.num_examples for d in stats.datasets):
            context.logger.warning("SchemaGen: split %r holds no examples; the schema is inferred from the other splits", split)
            continue
        if inferred is None:
            inferred = tfdv.infer_schema(stats, infer_feature_shape=bool(infer_feature_shape))
        else:
            inferred = tfdv.update_schema(inferred, stats)
    if inferred is None:
        raise InputDataError(
            f"SchemaGen: the statistics at {statistics.uri} count no examples in any of the splits {splits}; "
            "check ExampleGen's input and exclude_splits"
        )
    write_schema(inferred, schema.uri)


def run_import_schema_gen(context: ExecutionContext, schema: Schema, schema_file: str) -> None:
    """Check ``schema_file`` parses as a Schema, then write it into the artifact."""
    if not schema_file:
        raise InputDataError("ImportSchemaGen: schema file path is missing; pass schema_file='path/to/schema.pbtxt'")
    if os.path.isdir(schema_file):
        raise InputDataError(f"ImportSchemaGen: schema_file {schema_file} is a folder; name the .pbtxt file itself")
    write_schema(load_schema(schema_file), schema.uri)

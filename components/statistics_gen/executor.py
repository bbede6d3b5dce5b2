"""StatisticsGen executor: TFDV over each split, in process (TFDV's in-memory generators on
one Arrow batch) when the data fits on the DirectRunner, else ``tfdv.GenerateStatistics`` on Beam."""

from __future__ import annotations

import json
import os
from typing import Any

from pipelinekit.components.statistics_gen.summary import statistics_summary
from pipelinekit.components.util.errors import InputDataError
from pipelinekit.components.util.examples_io import in_process, make_tfxio, read_record_batch, split_files
from pipelinekit.components.util.tfdv_io import STATS_FILE, load_schema, selected_splits, write_stats

from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.types.standard import Examples, ExampleStatistics, Schema

__all__ = ["run_statistics_gen", "statistics_in_process", "statistics_of_record_batch"]


def run_statistics_gen(
    context: ExecutionContext,
    examples: Examples,
    statistics: ExampleStatistics,
    schema: Schema | None = None,
    stats_options_json: str | None = None,
    exclude_splits: list[str] | None = None,
) -> None:
    options = _options(stats_options_json, schema)
    splits = selected_splits(examples, exclude_splits, "StatisticsGen")
    size = sum(os.path.getsize(f) for s in splits for f in split_files(examples, s))
    if in_process(context, size):
        for split in splits:
            write_stats(statistics_in_process(examples, split, options), os.path.join(statistics.split_uri(split), STATS_FILE))
    else:
        _statistics_with_beam(context, examples, statistics, splits, options)
    statistics.splits = splits
    if examples.span is not None:
        statistics.span = examples.span
    statistics.set_custom_property("stats_dashboard_link", "")
    statistics.set_custom_property("sample_rate_by_split", json.dumps({}))
    statistics.set_custom_property("summary", statistics_summary({split: statistics.split_uri(split) for split in splits}))


def _options(stats_options_json: str | None, schema: Schema | None) -> Any:
    import tensorflow_data_validation as tfdv

    options = tfdv.StatsOptions.from_json(stats_options_json) if stats_options_json else tfdv.StatsOptions()
    if schema is not None:
        if options.schema is not None:
            raise InputDataError("StatisticsGen: a schema was given both as input and in stats_options.schema; give one")
        options.schema = load_schema(schema)
    return options


def statistics_in_process(examples: Examples, split: str, options: Any) -> Any:
    """TFDV statistics of one split computed in this process from a single Arrow batch."""
    return statistics_of_record_batch(read_record_batch(examples, split), options)


def statistics_of_record_batch(batch: Any, options: Any) -> Any:
    """TFDV's in-memory statistics of one Arrow RecordBatch of decoded tf.Examples (the fast path,
    shared with the monitor)."""
    from tensorflow_data_validation.statistics import stats_impl

    return stats_impl.generate_statistics_in_memory(batch, options)


def _statistics_with_beam(context: ExecutionContext, examples: Examples, statistics: ExampleStatistics, splits: list[str], options: Any) -> None:
    import tensorflow_data_validation as tfdv

    with context.make_beam_pipeline() as pipeline:
        for split in splits:
            path = os.path.join(statistics.split_uri(split), STATS_FILE)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            (
                pipeline
                | f"Read {split}" >> make_tfxio(examples, split).BeamSource()
                | f"Stats {split}" >> tfdv.GenerateStatistics(options)
                | f"Write {split}" >> tfdv.WriteStatisticsToBinaryFile(path)
            )

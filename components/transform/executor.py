"""Transform executor: tf.Transform's analyze and transform on a Beam pipeline built from
the pipeline's ``beam_pipeline_args``, with TFX's output layout.

``transform_graph``: ``transform_fn/``, ``transformed_metadata/`` (TFT) and ``metadata/``
(the raw schema, which TFT does not write); ``transformed_examples``:
``Split-<name>/transformed_examples-*.gz``; statistics outputs hold ``FeatureStats.pb``,
``schema.pbtxt`` and ``SchemaDiff.pb`` for the analyzed data.
"""

from __future__ import annotations

import functools
import inspect
import os
import shutil
from typing import Any

from pipelinekit.components.transform.in_process import (
    STATISTICS_OUTPUTS,
    TRANSFORMED_PREFIX,
    runs_in_process,
    transform_in_process,
)
from pipelinekit.components.util.arguments import parse_proto
from pipelinekit.components.util.errors import InputDataError, UserModuleError
from pipelinekit.components.util.examples_io import cast_to_arrow_schema, make_tfxio, payload_format, require_payload, write_split
from pipelinekit.components.util.keras3 import import_tft
from pipelinekit.components.util.module_loader import function_from, load_function, load_module_file
from pipelinekit.components.util.tfdv_io import ANOMALIES_FILE, STATS_FILE, load_schema, load_stats, write_schema

from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.proto import transform_pb2
from pipelinekit.types.standard import Examples, TransformCache, TransformGraph

__all__ = ["run_transform"]


def run_transform(
    context: ExecutionContext,
    examples: Examples,
    schema: Any,
    transform_graph: TransformGraph,
    analyzer_cache: TransformCache | None = None,
    module_file: str | None = None,
    preprocessing_fn: str | None = None,
    stats_options_updater_fn: str | None = None,
    splits_config: str | None = None,
    force_tf_compat_v1: bool = False,
    custom_config: dict[str, Any] | None = None,
    disable_statistics: bool = False,
    **outputs: Any,
) -> None:
    require_payload(examples, "Transform", ("FORMAT_TF_EXAMPLE", "FORMAT_TF_SEQUENCE_EXAMPLE", "FORMAT_PARQUET"))
    tft = import_tft()
    analyze, transform = _splits(examples, splits_config)
    module = load_module_file(module_file) if module_file else None
    user_fn = (
        _ModuleFileFunction(module_file, function_from(module, "preprocessing_fn"))
        if module_file
        else load_function("preprocessing_fn", dotted_path=preprocessing_fn)
    )
    user_fn = _bind_custom_config(user_fn, custom_config or {})
    raw_schema = load_schema(schema)
    updater = getattr(module, "stats_options_updater_fn", None) if module else None
    if stats_options_updater_fn:
        updater = load_function("stats_options_updater_fn", dotted_path=stats_options_updater_fn)
    options = _stats_options(raw_schema, updater)
    readers = {split: make_tfxio(examples, split, raw_schema, "Transform") for split in dict.fromkeys([*analyze, *transform])}
    here = runs_in_process(context, examples, list(readers), force_tf_compat_v1)
    data_outputs = ("transformed_examples", *STATISTICS_OUTPUTS)
    beam_outputs = {k: v for k, v in outputs.items() if not (here and k in data_outputs)}  # only analysis on Beam then
    _run_pipeline(context, examples, readers, user_fn, analyze, transform, transform_graph, analyzer_cache, beam_outputs, force_tf_compat_v1, options)
    if here:
        transform_in_process(readers, transform_graph.uri, analyze, transform, outputs, options)
    _complete_cache(analyzer_cache, outputs.get("updated_analyzer_cache"))
    tft.tf_metadata.metadata_io.write_metadata(
        tft.tf_metadata.dataset_metadata.DatasetMetadata(raw_schema), os.path.join(transform_graph.uri, "metadata")
    )
    if outputs.get("transformed_examples") is not None:
        transformed = outputs["transformed_examples"]
        transformed.splits = transform
        if examples.span is not None:
            transformed.span = examples.span
        transformed.set_custom_property("payload_format", "FORMAT_TF_EXAMPLE")
        transformed.set_custom_property("file_format", "tfrecords_gzip")
    if outputs.get("post_transform_schema") is not None:
        _finish_statistics(tft, raw_schema, transform_graph, outputs)


def _splits(examples: Examples, splits_config: str | None) -> tuple[list[str], list[str]]:
    config = parse_proto(splits_config, transform_pb2.SplitsConfig)
    if not splits_config:
        return ["train"], list(examples.splits)
    if not config.analyze:
        raise InputDataError("Transform: splits_config.analyze is empty; name the splits the analyzers should see")
    missing = [s for s in [*config.analyze, *config.transform] if s not in examples.splits]
    if missing:
        raise InputDataError(f"Transform: splits {missing} are not in the examples (its splits: {examples.splits})")
    return list(config.analyze), list(config.transform)


def _stats_options(raw_schema: Any, updater: Any) -> tuple[Any, Any]:
    """Pre- and post-transform StatsOptions, passed through the module's optional
    ``stats_options_updater_fn(stats_type, options)`` as TFX does."""
    import tensorflow_data_validation as tfdv
    from pipelinekit.components.transform.stats_options import StatsType

    pre, post = tfdv.StatsOptions(schema=raw_schema), tfdv.StatsOptions()
    if updater is None:
        return pre, post
    return updater(StatsType.PRE_TRANSFORM, pre), updater(StatsType.POST_TRANSFORM, post)


class _ModuleFileFunction:
    """A module file's function that pickles as (file, name): TFT traces preprocessing_fn on a
    Beam worker, and a worker in another process (a Flink TaskManager's) cannot import the
    private name the file was loaded under here, so it loads the file itself."""

    def __init__(self, module_file: str, function: Any) -> None:
        self.module_file = module_file
        self.function = function
        self.__name__ = function.__name__
        self.__signature__ = inspect.signature(function)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return _load_module_file_function, (self.module_file, self.__name__)


def _load_module_file_function(module_file: str, name: str) -> _ModuleFileFunction:
    return _ModuleFileFunction(module_file, function_from(load_module_file(module_file), name))


def _bind_custom_config(fn: Any, custom_config: dict[str, Any]) -> Any:
    """Pass ``custom_config`` when preprocessing_fn takes it, as TFX does; wrap user errors."""
    try:
        takes_config = "custom_config" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        takes_config = False
    bound = functools.partial(fn, custom_config=custom_config) if takes_config else fn

    @functools.wraps(fn, updated=())  # not fn.__dict__: a _ModuleFileFunction holds the function itself
    def call(inputs: Any) -> Any:
        try:
            return bound(inputs)
        except Exception as error:
            where = getattr(getattr(fn, "function", fn), "__code__", None)
            place = f" ({where.co_filename})" if where else ""
            raise UserModuleError(f"preprocessing_fn{place} raised {type(error).__name__}: {error}") from error

    return call


def _run_pipeline(
    context: ExecutionContext,
    examples: Examples,
    readers: dict[str, Any],
    preprocessing_fn: Any,
    analyze: list[str],
    transform: list[str],
    transform_graph: TransformGraph,
    analyzer_cache: TransformCache | None,
    outputs: dict[str, Any],
    force_tf_compat_v1: bool,
    stats_options: tuple[Any, Any],
) -> None:
    import apache_beam as beam
    import tensorflow_data_validation as tfdv
    import tensorflow_transform.beam as tft_beam

    transformed_examples = outputs.get("transformed_examples")
    with_stats = outputs.get("pre_transform_stats") is not None
    # Each split is transformed once: its batches feed both its examples and the statistics.
    needed = [*transform] if transformed_examples is not None else []
    needed += [s for s in analyze if with_stats and s not in needed]
    tfxio = {split: readers[split] for split in dict.fromkeys([*analyze, *needed])}  # each split's TFXIO, raw schema
    adapter = tfxio[analyze[0]].TensorAdapterConfig()
    keys = {split: tft_beam.analyzer_cache.DatasetKey(f"span-{examples.span or 0}-{split}") for split in analyze}
    temp = os.path.join(context.tmp_dir, "tft")
    with context.make_beam_pipeline() as pipeline, tft_beam.Context(temp_dir=temp, force_tf_compat_v1=force_tf_compat_v1):
        raw = {split: pipeline | f"Read {split}" >> tfxio[split].BeamSource() for split in tfxio}
        if payload_format(examples) == "FORMAT_PARQUET":  # the files' column types, as the schema types them
            raw = {split: raw[split] | f"Cast {split}" >> beam.Map(cast_to_arrow_schema, adapter.arrow_schema) for split in raw}
        analyze_data = {keys[s]: raw[s] for s in analyze}
        updated = outputs.get("updated_analyzer_cache")
        if updated is not None:
            cache = _read_cache(pipeline, analyzer_cache, list(keys.values()))
            transform_fn, new_cache = (analyze_data, cache, adapter) | "Analyze" >> tft_beam.AnalyzeDatasetWithCache(
                preprocessing_fn, pipeline=pipeline
            )
            _ = new_cache | "WriteCache" >> tft_beam.analyzer_cache.WriteAnalysisCacheToFS(pipeline, updated.uri, list(keys.values()))
        else:
            flat = [raw[s] for s in analyze] | "Flatten" >> beam.Flatten()
            transform_fn = (flat, adapter) | "Analyze" >> tft_beam.AnalyzeDataset(preprocessing_fn)
        _ = transform_fn | "WriteTransformFn" >> tft_beam.WriteTransformFn(transform_graph.uri)
        batches = {split: _transformed_batches(raw[split], adapter, transform_fn, split) for split in needed}
        if transformed_examples is not None:
            output_schema = transform_fn[1].schema  # TFT's: it says which outputs are ragged, for the encoder
            for split in transform:
                records = batches[split] | f"Encode {split}" >> beam.FlatMap(_encode_batch, output_schema)
                write_split(records, transformed_examples.split_uri(split), TRANSFORMED_PREFIX)
        if with_stats:
            analyzed = [raw[s] for s in analyze] | "FlattenStats" >> beam.Flatten()
            pre = os.path.join(outputs["pre_transform_stats"].uri, STATS_FILE)
            _ = analyzed | "PreStats" >> tfdv.GenerateStatistics(stats_options[0]) | "WritePre" >> tfdv.WriteStatisticsToBinaryFile(pre)
            post = os.path.join(outputs["post_transform_stats"].uri, STATS_FILE)
            transformed = [batches[s] for s in analyze] | "FlattenTransformed" >> beam.Flatten()
            _ = (
                transformed
                | "Batches" >> beam.Map(lambda pair: pair[0])
                | "PostStats" >> tfdv.GenerateStatistics(stats_options[1])
                | "WritePost" >> tfdv.WriteStatisticsToBinaryFile(post)
            )


def _read_cache(pipeline: Any, analyzer_cache: TransformCache | None, keys: list[Any]) -> Any:
    import tensorflow_transform.beam as tft_beam

    if analyzer_cache is None or not os.listdir(analyzer_cache.uri):
        return {}
    return pipeline | "ReadCache" >> tft_beam.analyzer_cache.ReadAnalysisCacheFromFS(analyzer_cache.uri, keys)


def _complete_cache(previous: TransformCache | None, updated: TransformCache | None) -> None:
    """TFT writes only the cache entries it computed; carry over the ones it read, so the
    updated cache alone serves the next run."""
    if previous is None or updated is None or not os.path.isdir(previous.uri):
        return
    for entry in os.listdir(previous.uri):
        target = os.path.join(updated.uri, entry)
        if not os.path.exists(target):
            source = os.path.join(previous.uri, entry)
            (shutil.copytree if os.path.isdir(source) else shutil.copyfile)(source, target)


def _transformed_batches(raw: Any, adapter: Any, transform_fn: Any, split: str) -> Any:
    """``(record batch, unary outputs)`` pairs of one split, transformed by ``transform_fn``."""
    import tensorflow_transform.beam as tft_beam

    transformed, _ = ((raw, adapter), transform_fn) | f"Transform {split}" >> tft_beam.TransformDataset(output_record_batches=True)
    return transformed


def _encode_batch(pair: Any, schema: Any) -> Any:
    """Serialized tf.Examples of one transformed batch; ``schema`` (TFT's output schema, as TFX
    passes it) lets the encoder write ragged outputs, e.g. from SequenceExample feature lists."""
    from tfx_bsl.coders import example_coder

    batch, unary = pair
    if unary:
        raise InputDataError(f"preprocessing_fn returned scalar outputs {sorted(unary)}; return per-example tensors only")
    return example_coder.RecordBatchToExamplesEncoder(schema).encode(batch)


def _finish_statistics(tft: Any, raw_schema: Any, transform_graph: TransformGraph, outputs: dict[str, Any]) -> None:
    """Write the pre/post schemas and validate the post-transform statistics against the
    transformed schema (TFT's output metadata), as TFX's Transform does."""
    import tensorflow_data_validation as tfdv

    post_schema = tft.TFTransformOutput(transform_graph.uri).transformed_metadata.schema
    write_schema(raw_schema, outputs["pre_transform_schema"].uri)
    write_schema(post_schema, outputs["post_transform_schema"].uri)
    post_stats_path = os.path.join(outputs["post_transform_stats"].uri, STATS_FILE)
    anomalies = tfdv.validate_statistics(load_stats(post_stats_path), post_schema)
    with open(os.path.join(outputs["post_transform_anomalies"].uri, ANOMALIES_FILE), "wb") as handle:
        handle.write(anomalies.SerializeToString())

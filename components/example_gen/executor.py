"""ExampleGen executors: input files -> gzipped TFRecords of tf.Example under ``Split-<name>/``.

On the DirectRunner, when the input fits in memory, the work runs in this process (pyarrow
reads the CSV, tfx-bsl's C++ encoder makes the tf.Examples); otherwise it is a Beam pipeline
built from the pipeline's ``beam_pipeline_args``. Both give the same records in the same splits.
"""

from __future__ import annotations

import functools
import glob
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pipelinekit.components.example_gen.input_resolution import ResolvedInput, resolve_input
from pipelinekit.components.example_gen.splitting import Splitter, canonical, canonical_records, record_message
from pipelinekit.components.util.arguments import parse_proto
from pipelinekit.components.util.errors import InputDataError
from pipelinekit.components.util.examples_io import SplitWriters, in_process, write_split

from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.proto import example_gen_pb2, range_config_pb2
from pipelinekit.types.standard import Examples

__all__ = ["run_csv_example_gen", "run_import_example_gen"]

Reader = Callable[[list[str]], Iterable[list[bytes]]]
"""Input files to chunks of serialized records."""


def run_csv_example_gen(
    context: ExecutionContext,
    examples: Examples,
    input_base: str,
    input_config: str | None = None,
    output_config: str | None = None,
    range_config: str | None = None,
    output_data_format: int = example_gen_pb2.FORMAT_TF_EXAMPLE,
    output_file_format: int = example_gen_pb2.FORMAT_TFRECORDS_GZIP,
) -> None:
    """CsvExampleGen: each CSV row becomes a tf.Example (types inferred per column). The two
    format parameters are TFX's exec properties, recorded as given; the output is always gzipped
    TFRecords of tf.Example."""
    _generate(context, examples, input_base, input_config, output_config, range_config, _csv_records, _csv_beam)


def run_import_example_gen(
    context: ExecutionContext,
    examples: Examples,
    input_base: str,
    input_config: str | None = None,
    output_config: str | None = None,
    range_config: str | None = None,
    output_data_format: int = example_gen_pb2.FORMAT_TF_EXAMPLE,
    output_file_format: int = example_gen_pb2.FORMAT_TFRECORDS_GZIP,
) -> None:
    """ImportExampleGen: TFRecords of tf.Example (gzipped or not) are re-split and written, or
    of tf.SequenceExample with ``output_data_format=FORMAT_TF_SEQUENCE_EXAMPLE`` (TFX's
    ``payload_format``); with FORMAT_PARQUET, Parquet files are, in this process (``parquet_io``)."""
    if output_data_format == example_gen_pb2.FORMAT_PARQUET:
        from pipelinekit.components.example_gen.parquet_io import write_parquet_splits

        resolved, plan, files = _prepare(input_base, input_config, output_config, range_config)
        write_parquet_splits(examples, plan, files)
        _record(examples, resolved, plan, "FORMAT_PARQUET", "parquet")
        return
    sequence = output_data_format == example_gen_pb2.FORMAT_TF_SEQUENCE_EXAMPLE
    reader = functools.partial(_tfrecord_records, sequence=sequence)
    beam_reader = functools.partial(_tfrecord_beam, sequence=sequence)
    _generate(context, examples, input_base, input_config, output_config, range_config, reader, beam_reader, sequence)


def _generate(
    context: ExecutionContext,
    examples: Examples,
    input_base: str,
    input_config_json: str | None,
    output_config_json: str | None,
    range_config_json: str | None,
    reader: Reader,
    beam_reader: Any,
    sequence: bool = False,
) -> None:
    """Read, split and write tf.Examples (tf.SequenceExamples with ``sequence``)."""
    resolved, plan, files = _prepare(input_base, input_config_json, output_config_json, range_config_json, sequence)
    size = sum(os.path.getsize(f) for fs in files.values() for f in fs)
    if in_process(context, size):
        _write_in_process(examples, plan, files, reader, sequence)
    else:
        _write_with_beam(context, examples, plan, files, beam_reader, sequence)
    _record(examples, resolved, plan, "FORMAT_TF_SEQUENCE_EXAMPLE" if sequence else "FORMAT_TF_EXAMPLE")
    _warn_about_empty_splits(context, examples)


def _prepare(
    input_base: str,
    input_config_json: str | None,
    output_config_json: str | None,
    range_config_json: str | None,
    sequence: bool = False,
) -> tuple[ResolvedInput, dict[str, Splitter | None], dict[str, list[str]]]:
    """The resolved input (span, patterns), the output plan and each input split's files."""
    input_config = parse_proto(input_config_json, example_gen_pb2.Input)
    output_config = parse_proto(output_config_json, example_gen_pb2.Output)
    resolved = resolve_input(input_base, _input_splits(input_config), _static_span(range_config_json))
    plan = _output_plan(resolved, output_config, sequence)
    return resolved, plan, {name: _files(pattern) for name, pattern in resolved.patterns.items()}


def _input_splits(input_config: Any) -> dict[str, str]:
    """Split name -> pattern; TFX's default is one split reading every file (``*``)."""
    if not input_config.splits:
        return {"single_split": "*"}
    splits = {s.name: s.pattern for s in input_config.splits}
    if len(splits) != len(input_config.splits) or any(not name or not pattern for name, pattern in splits.items()):
        pairs = [(s.name, s.pattern) for s in input_config.splits]
        raise InputDataError(f"input_config splits need unique, non-empty names and patterns, got {pairs}")
    return splits


def _static_span(range_config_json: str | None) -> int | None:
    if not range_config_json:
        return None
    config = parse_proto(range_config_json, range_config_pb2.RangeConfig)
    if config.WhichOneof("range") != "static_range":
        raise InputDataError("ExampleGen's range_config supports only static_range; use a Resolver with SpanRangeStrategy for rolling ranges")
    static = config.static_range
    if static.start_span_number != static.end_span_number:
        raise InputDataError(
            f"ExampleGen reads one span: range_config.static_range must have start_span_number == end_span_number, "
            f"got {static.start_span_number}..{static.end_span_number}"
        )
    return static.start_span_number


def _output_plan(resolved: ResolvedInput, output_config: Any, sequence: bool = False) -> dict[str, Splitter | None]:
    """Per input split: a splitter into the output splits, or None to keep it as one split."""
    if output_config.HasField("split_config"):
        if len(resolved.patterns) != 1:
            raise InputDataError("output_config.split_config needs exactly one input split; remove it to keep the input splits")
        return {name: Splitter.from_config(output_config.split_config, sequence) for name in resolved.patterns}
    if len(resolved.patterns) == 1:
        default = example_gen_pb2.SplitConfig(
            splits=[example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=2), example_gen_pb2.SplitConfig.Split(name="eval", hash_buckets=1)]
        )
        return {name: Splitter.from_config(default, sequence) for name in resolved.patterns}
    return {name: None for name in resolved.patterns}


def _output_names(plan: dict[str, Splitter | None]) -> list[str]:
    names: list[str] = []
    for input_name, splitter in plan.items():
        names.extend(splitter.names if splitter else [input_name])
    return names


def _files(pattern: str) -> list[str]:
    return sorted(p for p in glob.glob(pattern) if os.path.isfile(p))


def _write_in_process(
    examples: Examples, plan: dict[str, Splitter | None], files: dict[str, list[str]], reader: Reader, sequence: bool
) -> None:
    """Stream chunks of records from the reader into one gzipped TFRecord per output split."""
    for input_name, splitter in plan.items():
        names = list(splitter.names) if splitter else [input_name]
        with SplitWriters([examples.split_uri(n) for n in names]) as writers:
            for chunk in reader(files[input_name]):
                records = canonical_records(chunk, sequence)
                writers.write_all(splitter.assign(records) if splitter else [0] * len(records), records)


def _write_with_beam(
    context: ExecutionContext,
    examples: Examples,
    plan: dict[str, Splitter | None],
    files: dict[str, list[str]],
    beam_reader: Any,
    sequence: bool,
) -> None:
    import apache_beam as beam

    with context.make_beam_pipeline() as pipeline:
        for input_name, splitter in plan.items():
            records = beam_reader(pipeline, input_name, files[input_name]) | f"Canonical {input_name}" >> beam.Map(canonical, sequence)
            if splitter is None:
                write_split(records, examples.split_uri(input_name))
                continue
            parts = records | f"Split {input_name}" >> beam.Partition(splitter, len(splitter.names))
            for index, name in enumerate(splitter.names):
                write_split(parts[index] | f"Shuffle {name}" >> beam.Reshuffle(), examples.split_uri(name))


def _record(
    examples: Examples,
    resolved: ResolvedInput,
    plan: dict[str, Splitter | None],
    payload_format: str = "FORMAT_TF_EXAMPLE",
    file_format: str = "tfrecords_gzip",
) -> None:
    examples.splits = _output_names(plan)
    examples.span = resolved.span
    examples.set_custom_property("span", resolved.span)
    if resolved.version is not None:
        examples.version = resolved.version
        examples.set_custom_property("version", resolved.version)
    examples.set_custom_property("input_fingerprint", resolved.fingerprint)
    examples.set_custom_property("payload_format", payload_format)
    examples.set_custom_property("file_format", file_format)


def _warn_about_empty_splits(context: ExecutionContext, examples: Examples) -> None:
    """An output split with no records (a small input's hash split can leave one empty) is
    valid, with 0-example statistics downstream, but is most likely not what was meant."""
    import tensorflow as tf

    for split in examples.splits:
        files = _files(os.path.join(examples.split_uri(split), "*"))
        if not any(True for _ in tf.data.TFRecordDataset(files, compression_type="GZIP").take(1)):
            context.logger.warning(
                "ExampleGen: output split %r holds no examples (a small input or a split that is not hash-split); "
                "its statistics will count 0 examples; add rows or change output_config's split ratios", split
            )


def _csv_records(files: list[str]) -> Iterator[list[bytes]]:
    """In process: the files' rows as chunks of tf.Examples, typed by one pass over all of them."""
    from pipelinekit.components.example_gen.csv_io import infer_column_types

    header, types = infer_column_types(files)
    yield from _encoded_chunks(files, header, types)


def _csv_beam(pipeline: Any, name: str, files: list[str]) -> Any:
    """Beam: the same streaming type pass as in process runs here, on the driver, before the
    pipeline is built (so bad input fails with the same message, naming file and line); then
    each file is read and encoded by the in-process reader on a worker."""
    import apache_beam as beam
    from pipelinekit.components.example_gen.csv_io import infer_column_types

    header, types = infer_column_types(files)
    return (
        pipeline
        | f"Files {name}" >> beam.Create(files)
        | f"Spread {name}" >> beam.Reshuffle()
        | f"Encode {name}" >> beam.FlatMap(_encode_csv_file, header, types)
    )


def _encode_csv_file(path: str, header: list[str], types: dict[str, str | None]) -> Iterator[bytes]:
    """One CSV file's rows as serialized tf.Examples, typed by ``types`` (a Beam worker's share)."""
    for chunk in _encoded_chunks([path], header, types):
        yield from chunk


def _encoded_chunks(files: list[str], header: list[str], types: dict[str, str | None]) -> Iterator[list[bytes]]:
    """The files' Arrow batches as chunks of tf.Examples, encoded on a second thread (tfx-bsl's
    encoder releases the GIL) while the caller works on the last chunk."""
    from pipelinekit.components.example_gen.csv_io import record_batches
    from pipelinekit.components.util.read_ahead import map_ahead
    from tfx_bsl.coders import example_coder

    yield from map_ahead(example_coder.RecordBatchToExamplesEncoder().encode, record_batches(files, header, types))


def _tfrecord_records(files: list[str], sequence: bool = False) -> Iterator[list[bytes]]:
    """Stream the records of TFRecord files (gzipped when named ``*.gz``) in chunks, after checking them."""
    import tensorflow as tf

    _check_tfrecord_files(files, sequence)
    for path in files:
        try:
            for batch in tf.data.TFRecordDataset(path, compression_type=_compression(path)).batch(1 << 14):
                yield batch.numpy().tolist()
        except tf.errors.OpError as error:
            raise InputDataError(_unreadable(path, error)) from error


def _tfrecord_beam(pipeline: Any, name: str, files: list[str], sequence: bool = False) -> Any:
    """Beam: the files are checked on the driver as in process, then read on workers."""
    import apache_beam as beam

    _check_tfrecord_files(files, sequence)
    return pipeline | f"Read {name}" >> beam.Create(files) | f"ReadAll {name}" >> beam.io.ReadAllFromTFRecord()


def _check_tfrecord_files(files: list[str], sequence: bool = False) -> None:
    """Each file must be readable TFRecords whose first record is a tf.Example (a
    tf.SequenceExample with ``sequence``), and some file must hold a record; errors name the file."""
    import tensorflow as tf

    message = record_message(sequence)
    kind = "tf.SequenceExample" if sequence else "tf.Example"
    found = False
    for path in files:
        try:
            first = [r.numpy() for r in tf.data.TFRecordDataset(path, compression_type=_compression(path)).take(1)]
        except tf.errors.OpError as error:
            raise InputDataError(_unreadable(path, error)) from error
        for record in first:
            found = True
            try:
                message.FromString(record)
            except Exception as error:
                raise InputDataError(
                    f"the records in {path} are not {kind}s: {error}; ImportExampleGen reads TFRecords of serialized {kind}"
                    + ("" if sequence else " (pass payload_format=FORMAT_TF_SEQUENCE_EXAMPLE for tf.SequenceExamples)")
                ) from error
    if not found:
        raise InputDataError(f"the TFRecord files {files} hold no records; add data or point input_base elsewhere")


def _compression(path: str) -> str:
    return "GZIP" if path.endswith(".gz") else ""


def _unreadable(path: str, error: Any) -> str:
    kind = "gzip" if _compression(path) else "uncompressed"
    return f"{path} is not a readable TFRecord file ({kind}): {error.message}; ImportExampleGen reads TFRecords (gzipped when named *.gz)"

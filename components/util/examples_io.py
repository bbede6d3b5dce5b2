"""Reading and writing the splits of Examples artifacts, and the Beam plumbing executors share.

Examples are gzipped TFRecords of tf.Example (or tf.SequenceExample, or Parquet files, as the
artifact's ``payload_format`` says) under ``<uri>/Split-<name>/``, read through tfx-bsl's TFXIO
so the same code feeds TFDV, TFT and Keras.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator
from typing import Any

from pipelinekit.components.util.errors import InputDataError

from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.types.standard import Examples

__all__ = [
    "DEFAULT_FILE_PREFIX",
    "split_files",
    "split_pattern",
    "make_tfxio",
    "tfxio_for",
    "cast_to_arrow_schema",
    "payload_format",
    "is_parquet",
    "is_sequence_example",
    "SEQUENCE_COLUMN",
    "require_payload",
    "read_record_batch",
    "decode_examples",
    "concat_record_batches",
    "write_split",
    "SplitWriters",
    "beam_runner",
    "in_process",
    "IN_PROCESS_ENV",
]

DEFAULT_FILE_PREFIX = "data_tfrecord"
IN_PROCESS_ENV = "PIPELINEKIT_DATA_PATH"
"""``beam`` forces the Beam path, ``in_process`` the in-process one; unset (``auto``) picks
in-process on the DirectRunner when the input is below IN_PROCESS_MAX_BYTES."""
IN_PROCESS_MAX_BYTES = 512 * 1024 * 1024
SEQUENCE_COLUMN = "##SEQUENCE##"
"""The column that holds a tf.SequenceExample's feature lists (a struct of them), as tfx-bsl's
TFSequenceExampleRecord names it; context features are top-level columns."""


def split_pattern(examples: Examples, split: str) -> str:
    """The file pattern of one split, ``<uri>/Split-<split>/*``, as TFX's ``train_files``."""
    return os.path.join(examples.split_uri(split), "*")


def split_files(examples: Examples, split: str) -> list[str]:
    """The files of one split; an error naming the folder when there are none."""
    files = sorted(glob.glob(split_pattern(examples, split)))
    if not files:
        raise InputDataError(
            f"{examples.TYPE_NAME} at {examples.uri} has no files for split {split!r} "
            f"(its splits: {', '.join(examples.splits) or 'none'})"
        )
    return files


def is_parquet(examples: Examples) -> bool:
    """Whether the artifact holds Parquet files (``payload_format`` FORMAT_PARQUET), not tf.Examples."""
    return payload_format(examples) == "FORMAT_PARQUET"


def is_sequence_example(examples: Examples) -> bool:
    """Whether the artifact holds tf.SequenceExamples (``payload_format`` FORMAT_TF_SEQUENCE_EXAMPLE)."""
    return payload_format(examples) == "FORMAT_TF_SEQUENCE_EXAMPLE"


def require_payload(examples: Examples, component: str, formats: tuple[str, ...] = ("FORMAT_TF_EXAMPLE",)) -> None:
    """Refuse a payload format other than ``formats``, naming the component and the artifact."""
    payload = payload_format(examples)
    if payload not in formats:
        raise InputDataError(
            f"{component} reads {' or '.join(formats)} examples; those at {examples.uri} have payload_format {payload}. "
            "Import the data as tf.Examples (CsvExampleGen, or ImportExampleGen on TFRecords)"
        )


def payload_format(examples: Examples) -> str:
    """The artifact's ``payload_format`` custom property, FORMAT_TF_EXAMPLE when unset (as in TFX)."""
    return examples.custom_properties.get("payload_format") or "FORMAT_TF_EXAMPLE"


def make_tfxio(examples: Examples, split: str, schema: Any = None, telemetry: str = "pipelinekit") -> Any:
    """A TFXIO over one split (``schema``: a tensorflow_metadata Schema or None)."""
    split_files(examples, split)
    return tfxio_for(split_pattern(examples, split), payload_format(examples), schema, telemetry)


def tfxio_for(file_pattern: str | list[str], payload: str, schema: Any = None, telemetry: str = "pipelinekit") -> Any:
    """A TFXIO over ``file_pattern`` chosen by the payload format, as TFX's
    ``tfxio_utils.make_tfxio`` chooses: tfx-bsl's ParquetTFXIO, TFSequenceExampleRecord or
    TFExampleRecord."""
    from tfx_bsl.public import tfxio

    if payload == "FORMAT_PARQUET":
        from tfx_bsl.tfxio.parquet_tfxio import ParquetTFXIO

        return ParquetTFXIO(file_pattern, schema=schema, telemetry_descriptors=[telemetry])
    if payload == "FORMAT_TF_SEQUENCE_EXAMPLE":
        return tfxio.TFSequenceExampleRecord(file_pattern=file_pattern, schema=schema, telemetry_descriptors=[telemetry])
    if payload == "FORMAT_TF_EXAMPLE":
        return tfxio.TFExampleRecord(file_pattern=file_pattern, schema=schema, telemetry_descriptors=[telemetry])
    raise InputDataError(
        f"payload_format {payload} has no TFXIO reader here; FORMAT_TF_EXAMPLE, FORMAT_TF_SEQUENCE_EXAMPLE "
        "and FORMAT_PARQUET are read"
    )


def cast_to_arrow_schema(batch: Any, arrow_schema: Any) -> Any:
    """``batch`` with the columns, order and types of ``arrow_schema`` (a TFXIO's ArrowSchema());
    a column the batch lacks is all null. ParquetTFXIO yields the files' own column types (e.g.
    ``list<double>``, ``list<string>``) while its ArrowSchema, which TFT's tensor adapter checks
    every batch against, has the types the TFMD schema gives (``large_list<float>``, ...)."""
    import pyarrow as pa

    names = set(batch.schema.names)
    columns = []
    for field in arrow_schema:
        if field.name not in names:
            columns.append(pa.nulls(batch.num_rows, field.type))
            continue
        column = batch.column(field.name)
        try:
            columns.append(column.cast(field.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            raise InputDataError(
                f"column {field.name!r} ({column.type}) cannot be read as {field.type}, the type the schema gives "
                f"that feature ({error}); fix the feature's type in the schema or the column in the files"
            ) from error
    return pa.RecordBatch.from_arrays(columns, schema=arrow_schema)


def read_record_batch(examples: Examples, split: str, batch_size: int = 1 << 16) -> Any:
    """In-process: one split's tf.Examples as a single Arrow RecordBatch (with no columns when
    the split is empty). tf.data reads the gzipped records in chunks of string tensors, and each
    chunk is parsed to tfx-bsl's Arrow layout by TensorFlow's C++ (``arrow_examples``) on two
    threads while the next ones are read (a few chunks ahead, so raw records do not pile up):
    several times faster than TFXIO's tf.data parsing."""
    if is_parquet(examples):
        return _read_parquet_batch(split_files(examples, split))
    import tensorflow as tf

    def chunks() -> Iterator[Any]:
        for path in split_files(examples, split):
            compression = "GZIP" if path.endswith(".gz") else ""
            yield from tf.data.TFRecordDataset(path, compression_type=compression, buffer_size=1 << 24).batch(batch_size).prefetch(1)

    if is_sequence_example(examples):
        return _decode_sequence_examples([record for chunk in chunks() for record in chunk.numpy()])
    from pipelinekit.components.util.arrow_examples import examples_record_batch
    from pipelinekit.components.util.read_ahead import map_ahead

    return concat_record_batches(list(map_ahead(examples_record_batch, chunks(), depth=3, workers=2)))


def _decode_sequence_examples(records: list[bytes]) -> Any:
    """Serialized tf.SequenceExamples as one Arrow RecordBatch in TFSequenceExampleRecord's
    layout (context features as columns, feature lists under SEQUENCE_COLUMN), decoded in one
    call so every row shares the types inferred from the whole split."""
    import pyarrow as pa
    from tfx_bsl.coders import sequence_example_coder

    if not records:
        return pa.RecordBatch.from_arrays([], schema=pa.schema([]))
    return sequence_example_coder.SequenceExamplesToRecordBatchDecoder(SEQUENCE_COLUMN).DecodeBatch(records)


def _read_parquet_batch(files: list[str]) -> Any:
    """Parquet files (list columns, as ImportExampleGen writes them) as one Arrow RecordBatch."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.concat_tables([pq.read_table(path) for path in files]).combine_chunks()
    batches = table.to_batches()
    return batches[0] if batches else pa.RecordBatch.from_pylist([], schema=table.schema)


def decode_examples(chunks: Iterable[list[bytes]]) -> Any:
    """Chunks of serialized tf.Examples as a single Arrow RecordBatch (no columns when there are
    none), decoded by tfx-bsl's C++ decoder on two threads; what StatisticsGen's fast path reads."""
    from concurrent.futures import ThreadPoolExecutor

    from tfx_bsl.coders import example_coder

    decoder = example_coder.ExamplesToRecordBatchDecoder()
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending = [pool.submit(decoder.DecodeBatch, chunk) for chunk in chunks if chunk]
        return concat_record_batches([future.result() for future in pending])


def concat_record_batches(batches: list[Any]) -> Any:
    """Decoded chunks as one Arrow RecordBatch, columns in name order (no columns when there are none)."""
    import pyarrow as pa

    batches = [batch for batch in batches if batch.num_rows]
    if not batches:  # an empty split (e.g. a small input's hash split): 0 rows, as on Beam
        return pa.RecordBatch.from_arrays([], schema=pa.schema([]))
    # a feature absent from a whole chunk decodes as missing or null-typed there: promote
    table = pa.concat_tables([pa.Table.from_batches([b]) for b in batches], promote=True)
    return table.select(sorted(table.column_names)).combine_chunks().to_batches()[0]


def write_split(records: Any, folder: str, prefix: str = DEFAULT_FILE_PREFIX) -> Any:
    """Beam: write a PCollection of serialized records to ``<folder>/<prefix>-*.gz`` (gzipped TFRecords)."""
    import apache_beam as beam

    return records | f"Write {os.path.basename(folder)}" >> beam.io.WriteToTFRecord(
        os.path.join(folder, prefix), file_name_suffix=".gz"
    )


class SplitWriters:
    """In-process: one gzipped TFRecord per split folder, named as Beam names a single shard;
    records are written as they come, so memory does not grow with the data."""

    def __init__(self, folders: list[str], prefix: str = DEFAULT_FILE_PREFIX) -> None:
        self.paths = [os.path.join(folder, f"{prefix}-00000-of-00001.gz") for folder in folders]
        self._writers: list[Any] = []

    def __enter__(self) -> SplitWriters:
        import tensorflow as tf

        for path in self.paths:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            self._writers.append(tf.io.TFRecordWriter(path, options=tf.io.TFRecordOptions(compression_type="GZIP", compression_level=1)))
        return self

    def write_all(self, indices: list[int], records: list[bytes]) -> None:
        """Write each record to the split at the same position in ``indices``."""
        writers = [writer.write for writer in self._writers]
        for index, record in zip(indices, records):
            writers[index](record)

    def __exit__(self, *_: object) -> None:
        for writer in self._writers:
            writer.close()


def beam_runner(context: ExecutionContext) -> str:
    """The runner named in ``beam_pipeline_args`` (``DirectRunner`` when none is)."""
    runner = "DirectRunner"
    args = context.beam_pipeline_args
    for index, arg in enumerate(args):
        if arg.startswith("--runner="):
            runner = arg.split("=", 1)[1]
        elif arg == "--runner" and index + 1 < len(args):
            runner = args[index + 1]
    return runner


def in_process(context: ExecutionContext, input_bytes: int) -> bool:
    """Whether to do the data work in this process instead of a Beam pipeline: only on the
    DirectRunner (which runs here anyway) and for inputs that fit comfortably in memory; with
    any other runner (Flink, Spark, Dataflow) the work always goes through Beam."""
    choice = os.environ.get(IN_PROCESS_ENV, "auto")
    if choice not in ("auto", "beam", "in_process"):
        raise InputDataError(f"{IN_PROCESS_ENV}={choice!r}: use auto, beam or in_process")
    runner = beam_runner(context)
    if runner.lower() not in ("directrunner", "direct"):  # the data work belongs on the runner's cluster
        if choice == "in_process":
            raise InputDataError(f"{IN_PROCESS_ENV}=in_process contradicts --runner={runner}: unset it to run on {runner}")
        return False
    if choice != "auto":
        return choice == "in_process"
    return input_bytes <= IN_PROCESS_MAX_BYTES

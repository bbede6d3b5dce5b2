"""Transform's data work after analysis, in this process: on a small input, the Beam pipeline
only analyzes and writes the transform_fn, and the rows are then transformed here, encoded and
written, and described by TFDV before and after. Beam's per-stage work for those branches cost
more than the work itself (the statistics alone: 3.5 s of a 15 s penguin Transform).

The same steps as the Beam branches, in the same libraries: each split decoded by its TFXIO's
decoder, transformed by the written transform_fn (``TFTransformOutput.transform_raw_features``),
turned into record batches by TFT's own tensor-to-Arrow converter for its output schema (as
``TransformDataset(output_record_batches=True)`` does), encoded by tfx-bsl's encoder with that
schema, and the statistics computed by TFDV with the same options."""

from __future__ import annotations

import os
from typing import Any

from pipelinekit.components.util.examples_io import (
    IN_PROCESS_ENV,
    SplitWriters,
    concat_record_batches,
    in_process,
    payload_format,
    split_files,
)
from pipelinekit.components.util.tfdv_io import STATS_FILE, write_stats

from pipelinekit.dsl import context as dsl_context
from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.types.standard import Examples

__all__ = ["runs_in_process", "transform_in_process"]

_BATCH_SIZE = 1 << 14
STATISTICS_OUTPUTS = ("pre_transform_stats", "post_transform_stats")
TRANSFORMED_PREFIX = "transformed_examples"  # file names as TFX's: transformed_examples-00000-of-00001.gz


def runs_in_process(context: ExecutionContext, examples: Examples, splits: list[str], force_tf_compat_v1: bool) -> bool:
    """Whether the rows are transformed and described here: tf.Examples and a TF2 transform_fn,
    on the DirectRunner (``examples_io.in_process``) with a small input (``SMALL_INPUT_BYTES``,
    unless ``PIPELINEKIT_DATA_PATH=in_process`` forces it): the analyzed splits are held in
    memory twice, raw and transformed, for their statistics."""
    if force_tf_compat_v1 or payload_format(examples) != "FORMAT_TF_EXAMPLE":
        return False
    size = sum(os.path.getsize(path) for split in splits for path in split_files(examples, split))
    forced = os.environ.get(IN_PROCESS_ENV) == "in_process"
    return in_process(context, size) and (forced or size <= dsl_context.SMALL_INPUT_BYTES)


def transform_in_process(
    readers: dict[str, Any], transform_graph_uri: str, analyze: list[str], transform: list[str], outputs: dict[str, Any], options: tuple[Any, Any]
) -> None:
    """Write the transformed examples of the ``transform`` splits (when that output is wanted) and
    the statistics of the ``analyze`` splits together, before (``options[0]``) and after
    (``options[1]``) the transform (when those outputs are wanted); ``readers``: each split's
    TFXIO, with the raw schema."""
    import tensorflow_transform as tft
    from tensorflow_transform import impl_helper
    from tfx_bsl.coders import example_coder

    output = tft.TFTransformOutput(transform_graph_uri)
    converter = impl_helper.make_tensor_to_arrow_converter(output.transformed_metadata.schema)
    encoder = example_coder.RecordBatchToExamplesEncoder(output.transformed_metadata.schema)
    examples_out = outputs.get("transformed_examples")
    write = transform if examples_out is not None else []
    describe = analyze if outputs.get(STATISTICS_OUTPUTS[0]) is not None else []
    raw: list[Any] = []
    transformed: list[Any] = []
    for split in dict.fromkeys([*write, *describe]):
        folder = examples_out.split_uri(split) if examples_out is not None and split in write else None
        with SplitWriters([folder] if folder else [], prefix=TRANSFORMED_PREFIX) as writers:
            for batch, result in _transformed_batches(readers[split], output, converter):
                if folder:
                    records = encoder.encode(result)
                    writers.write_all([0] * len(records), records)
                if split in describe:
                    raw.append(batch)
                    transformed.append(result)
    if describe:
        _write_statistics(raw, transformed, outputs, options)


def _transformed_batches(reader: Any, output: Any, converter: Any) -> Any:
    """``(raw record batch, transformed record batch)`` pairs of one split."""
    from tfx_bsl.tfxio import dataset_options, tensor_adapter

    adapter = tensor_adapter.TensorAdapter(reader.TensorAdapterConfig())
    read_options = dataset_options.RecordBatchesOptions(batch_size=_BATCH_SIZE, num_epochs=1, shuffle=False)
    for batch in reader.RecordBatches(read_options):
        tensors = output.transform_raw_features(adapter.ToBatchTensors(batch, produce_eager_tensors=True), drop_unused_features=True)
        yield batch, converter.convert(tensors)


def _write_statistics(raw: list[Any], transformed: list[Any], outputs: dict[str, Any], options: tuple[Any, Any]) -> None:
    from tensorflow_data_validation.statistics import stats_impl

    for key, batches, stats_options in ((STATISTICS_OUTPUTS[0], raw, options[0]), (STATISTICS_OUTPUTS[1], transformed, options[1])):
        statistics = stats_impl.generate_statistics_in_memory(concat_record_batches(batches), stats_options)
        batches.clear()  # the raw rows are not held while the transformed ones are joined
        write_stats(statistics, os.path.join(outputs[key].uri, STATS_FILE))

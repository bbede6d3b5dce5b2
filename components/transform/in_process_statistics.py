"""Transform's pre- and post-transform statistics computed in this process, after its Beam
pipeline, instead of as two TFDV branches inside it: on a small input those branches cost more
in Beam's per-stage work than the statistics themselves (3.5 s of a 15 s penguin Transform).
The same steps as the branches, in the same libraries: the analyzed splits decoded by their
TFXIO's decoder, transformed by the transform_fn the pipeline wrote (``TFTransformOutput``) and
turned into record batches by TFT's own tensor-to-Arrow converter for its output schema, as
``TransformDataset(output_record_batches=True)`` does; TFDV then computes both statistics."""

from __future__ import annotations

import os
from typing import Any

from pipelinekit.components.util.examples_io import concat_record_batches, in_process, payload_format, split_files
from pipelinekit.components.util.tfdv_io import STATS_FILE, write_stats

from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.types.standard import Examples

__all__ = ["statistics_in_process", "write_statistics"]

_BATCH_SIZE = 1 << 14


def statistics_in_process(
    context: ExecutionContext, examples: Examples, analyze: list[str], outputs: dict[str, Any], force_tf_compat_v1: bool
) -> bool:
    """Whether this run's statistics are computed here: tf.Examples and a TF2 transform_fn, on
    the DirectRunner with an input that fits (``examples_io.in_process``)."""
    if outputs.get("pre_transform_stats") is None or force_tf_compat_v1 or payload_format(examples) != "FORMAT_TF_EXAMPLE":
        return False
    size = sum(os.path.getsize(path) for split in analyze for path in split_files(examples, split))
    return in_process(context, size)


def write_statistics(readers: list[Any], transform_graph_uri: str, outputs: dict[str, Any], options: tuple[Any, Any]) -> None:
    """Write ``FeatureStats.pb`` of the analyzed splits (``readers``: their TFXIOs, with the raw
    schema) together, before (``options[0]``) and after (``options[1]``) the transform, where the
    Beam branches would have written them."""
    import tensorflow_transform as tft
    from tensorflow_data_validation.statistics import stats_impl
    from tensorflow_transform import impl_helper
    from tfx_bsl.tfxio import dataset_options, tensor_adapter

    output = tft.TFTransformOutput(transform_graph_uri)
    converter = impl_helper.make_tensor_to_arrow_converter(output.transformed_metadata.schema)
    read_options = dataset_options.RecordBatchesOptions(batch_size=_BATCH_SIZE, num_epochs=1, shuffle=False)
    raw, transformed = [], []
    for reader in readers:
        adapter = tensor_adapter.TensorAdapter(reader.TensorAdapterConfig())
        for batch in reader.RecordBatches(read_options):
            raw.append(batch)
            tensors = adapter.ToBatchTensors(batch, produce_eager_tensors=True)
            transformed.append(converter.convert(output.transform_raw_features(tensors, drop_unused_features=True)))
    for key, batches, stats_options in (("pre_transform_stats", raw, options[0]), ("post_transform_stats", transformed, options[1])):
        statistics = stats_impl.generate_statistics_in_memory(concat_record_batches(batches), stats_options)
        batches.clear()  # the raw rows are not held while the transformed ones are joined
        write_stats(statistics, os.path.join(outputs[key].uri, STATS_FILE))

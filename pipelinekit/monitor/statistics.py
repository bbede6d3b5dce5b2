"""TFDV statistics of served examples and predictions, on StatisticsGen's in-process fast path
(tfx-bsl's Arrow decoder, then TFDV's in-memory generators)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["statistics_of_examples", "prediction_example", "prediction_statistics"]

_CHUNK = 4096


def statistics_of_examples(examples: list[bytes], schema: Any = None) -> Any:
    """A DatasetFeatureStatisticsList of serialized tf.Examples, as StatisticsGen computes it
    (with ``schema``, as StatisticsGen given a schema: its domains make int features categorical)."""
    import tensorflow_data_validation as tfdv

    from pipelinekit.components.statistics_gen.executor import statistics_of_record_batch
    from pipelinekit.components.util.examples_io import decode_examples

    options = tfdv.StatsOptions(schema=schema) if schema is not None else tfdv.StatsOptions()
    return statistics_of_record_batch(decode_examples(_chunks(examples)), options)


def _chunks(examples: list[bytes]) -> Iterator[list[bytes]]:
    for start in range(0, len(examples), _CHUNK):
        yield examples[start : start + _CHUNK]


def prediction_example(prediction: dict[str, list[Any]]) -> bytes:
    """One answer as a tf.Example of univariate features: ``top_class`` and ``top_score`` for a
    classification; for a numeric output, its value (one value) or ``<name>_max`` and
    ``<name>_argmax`` (several: class probabilities); for a string output, its first value."""
    import tensorflow as tf

    example = tf.train.Example()
    features = example.features.feature
    if "classes" in prediction and "scores" in prediction and prediction["scores"]:
        best = max(range(len(prediction["scores"])), key=prediction["scores"].__getitem__)
        features["top_class"].bytes_list.value.append(str(prediction["classes"][best]).encode())
        features["top_score"].float_list.value.append(prediction["scores"][best])
        return example.SerializeToString()
    for name, values in prediction.items():
        if not values:
            continue
        if isinstance(values[0], str):
            features[name].bytes_list.value.append(values[0].encode())
        elif len(values) == 1:
            features[name].float_list.value.append(float(values[0]))
        else:
            best = max(range(len(values)), key=values.__getitem__)
            features[f"{name}_max"].float_list.value.append(float(values[best]))
            features[f"{name}_argmax"].int64_list.value.append(best)
    return example.SerializeToString()


def prediction_statistics(predictions: list[dict[str, list[Any]]]) -> Any:
    """Statistics of answers in :func:`prediction_example`'s features: what the monitor compares
    with a version's baseline ``predictions`` (make that baseline with this function on the
    version's answers to the eval data)."""
    return statistics_of_examples([prediction_example(p) for p in predictions])

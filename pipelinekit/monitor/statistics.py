"""TFDV statistics of served examples and predictions, on StatisticsGen's in-process fast path
(tfx-bsl's Arrow decoder, then TFDV's in-memory generators)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["statistics_of_examples", "prediction_features", "prediction_statistics"]

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


def prediction_features(prediction: dict[str, list[Any]]) -> dict[str, Any]:
    """One answer as univariate features: ``top_class`` and ``top_score`` for a classification; for a
    numeric output, its value (one value) or ``<name>_max`` and ``<name>_argmax`` (several: class
    probabilities); for a string output, its first value."""
    if "classes" in prediction and "scores" in prediction and prediction["scores"]:
        scores = prediction["scores"]
        best = max(range(len(scores)), key=scores.__getitem__)
        return {"top_class": str(prediction["classes"][best]), "top_score": float(scores[best])}
    features: dict[str, Any] = {}
    for name, values in prediction.items():
        if not values:
            continue
        if isinstance(values[0], str):
            features[name] = values[0]
        elif len(values) == 1:
            features[name] = float(values[0])
        else:
            best = max(range(len(values)), key=values.__getitem__)
            features[f"{name}_max"], features[f"{name}_argmax"] = float(values[best]), best
    return features


def prediction_statistics(predictions: list[dict[str, list[Any]]]) -> Any:
    """Statistics of answers in :func:`prediction_features` (an Arrow batch of one-value lists, as
    tfx-bsl decodes tf.Examples): what the monitor compares with a version's baseline
    ``predictions`` (make that baseline with this function on the version's answers to the eval data)."""
    import pyarrow as pa
    import tensorflow_data_validation as tfdv

    from pipelinekit.components.statistics_gen.executor import statistics_of_record_batch

    rows = [prediction_features(p) for p in predictions]
    names = sorted({name for row in rows for name in row})
    columns = [pa.array([[row[name]] if name in row else None for row in rows]) for name in names]
    return statistics_of_record_batch(pa.RecordBatch.from_arrays(columns, names), tfdv.StatsOptions())

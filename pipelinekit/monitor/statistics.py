"""TFDV statistics of served examples and predictions, on StatisticsGen's in-process fast path
(tfx-bsl's Arrow decoder, then TFDV's in-memory generators)."""

from __future__ import annotations

from typing import Any

from pipelinekit.monitor.predictions import Predictions

__all__ = ["statistics_of_examples", "statistics_of_batch", "prediction_statistics"]


def statistics_of_examples(examples: Any, schema: Any = None) -> Any:
    """A DatasetFeatureStatisticsList of serialized tf.Examples (a list of bytes or a string tensor), as
    StatisticsGen computes it (with ``schema``, as StatisticsGen given a schema: its domains make int
    features categorical)."""
    from pipelinekit.components.util.arrow_examples import examples_record_batch

    return statistics_of_batch(examples_record_batch(examples), schema)


def statistics_of_batch(batch: Any, schema: Any = None) -> Any:
    """StatisticsGen's statistics of tf.Examples already decoded to tfx-bsl's Arrow batch."""
    import tensorflow_data_validation as tfdv

    from pipelinekit.components.statistics_gen.executor import statistics_of_record_batch

    options = tfdv.StatsOptions(schema=schema) if schema is not None else tfdv.StatsOptions()
    return statistics_of_record_batch(batch, options)


def prediction_statistics(predictions: Predictions) -> Any:
    """Statistics of answers as
    :func:`~pipelinekit.components.util.prediction_features.prediction_features` makes them: what the
    monitor compares with a version's baseline ``predictions`` (the Evaluator's statistics of the
    model's predictions on eval data, in the same form)."""
    import tensorflow_data_validation as tfdv

    from pipelinekit.components.statistics_gen.executor import statistics_of_record_batch

    return statistics_of_record_batch(predictions.record_batch(), tfdv.StatsOptions())

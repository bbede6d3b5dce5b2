"""The distribution of the candidate model's predictions on the evaluated examples, as TFDV
statistics in ``<evaluation>/prediction_statistics/FeatureStats.pb``: the baseline the monitor
compares served answers with.

It reads the predictions TFMA's extractors already made (a TFMA evaluator run after the last
extractor, and a writer), so the model runs once. Each prediction becomes univariate features as
the monitor makes them of a served answer (:mod:`pipelinekit.components.util.prediction_features`):
a model output is named as its signature names it, so a Predict answer of the evaluated
signature compares feature by feature.
"""

from __future__ import annotations

import os
from typing import Any

from pipelinekit.components.evaluator.eval_config import signature_output_names
from pipelinekit.components.util.prediction_features import (
    PREDICTION_STATISTICS_DIR,
    features_record_batch,
    prediction_features,
)
from pipelinekit.components.util.tfdv_io import STATS_FILE

from pipelinekit.types.standard import Model

__all__ = ["STAGE", "prediction_statistics_evaluator", "prediction_statistics_writer", "prediction_statistics_path"]

STAGE = "PredictionStatistics"  # the stage name and the key of its output in TFMA's Evaluation


def prediction_statistics_path(evaluation_uri: str) -> str:
    return os.path.join(evaluation_uri, PREDICTION_STATISTICS_DIR, STATS_FILE)


def prediction_statistics_evaluator(config: Any, model: Model | None) -> Any:
    """A TFMA evaluator whose output (under :data:`STAGE`) is one DatasetFeatureStatisticsList of
    the candidate model's predictions (``config``'s candidate spec, ``model`` its artifact)."""
    import apache_beam as beam
    import tensorflow_model_analysis as tfma
    from tensorflow_model_analysis.extractors.extractor import LAST_EXTRACTOR_STAGE_NAME

    spec = next(s for s in config.model_specs if not s.is_baseline)
    keyed_by_model = len(config.model_specs) > 1
    output_name = _output_name(spec, model)

    def features(extracts: dict[str, Any]) -> list[dict[str, Any]]:
        predictions = extracts.get(tfma.PREDICTIONS_KEY)
        if keyed_by_model and isinstance(predictions, dict):
            predictions = predictions.get(spec.name)
        if predictions is None:
            return []
        outputs = predictions if isinstance(predictions, dict) else {output_name: predictions}
        return [prediction_features({name: _values(value) for name, value in outputs.items()})]

    @beam.ptransform_fn
    def measure(extracts: Any) -> dict[str, Any]:
        statistics = (
            extracts
            | "Features" >> beam.FlatMap(features)
            | "Gather" >> beam.combiners.ToList()
            | "Statistics" >> beam.Map(_statistics_in_memory)
        )
        return {STAGE: statistics}

    return tfma.evaluators.Evaluator(stage_name=STAGE, run_after=LAST_EXTRACTOR_STAGE_NAME, ptransform=measure())


def prediction_statistics_writer(evaluation_uri: str) -> Any:
    """A TFMA writer of the evaluator's statistics to :func:`prediction_statistics_path`."""
    import tensorflow_data_validation as tfdv
    import tensorflow_model_analysis as tfma

    path = prediction_statistics_path(evaluation_uri)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write = tfma.writers.Write(key=STAGE, ptransform=tfdv.WriteStatisticsToBinaryFile(path))
    return tfma.writers.Writer(stage_name=f"Write{STAGE}", ptransform=write)


def _statistics_in_memory(rows: list[dict[str, Any]]) -> Any:
    """TFDV's in-memory statistics of all the predictions at once, as StatisticsGen's fast path
    computes a split's: one evaluation's predictions fit in memory, and TFDV's Beam stages cost
    seconds of fixed overhead per Evaluator run."""
    import tensorflow_data_validation as tfdv
    from tensorflow_data_validation.statistics import stats_impl
    from tensorflow_metadata.proto.v0 import statistics_pb2

    if not rows:
        return statistics_pb2.DatasetFeatureStatisticsList(datasets=[statistics_pb2.DatasetFeatureStatistics(num_examples=0)])
    return stats_impl.generate_statistics_in_memory(features_record_batch(rows), tfdv.StatsOptions())


def _output_name(spec: Any, model: Model | None) -> str:
    """The name a single (not a dict) prediction has in a Predict answer: the spec's prediction_key,
    else the signature's only output."""
    if spec.prediction_key or model is None:
        return str(spec.prediction_key) or "prediction"
    outputs = signature_output_names(model.serving_model_dir, [spec.signature_name or "serving_default"])
    return next(iter(outputs)) if len(outputs) == 1 else "prediction"


def _values(value: Any) -> list[Any]:
    import numpy as np

    values = np.asarray(value).ravel().tolist()
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in values]

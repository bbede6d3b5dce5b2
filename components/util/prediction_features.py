"""A model's answers as univariate features, the form in which their distribution is measured: the
Evaluator's on eval data (its ``prediction_statistics``) and the monitor's on served answers, so
the two compare feature by feature."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["PREDICTION_STATISTICS_DIR", "prediction_features", "features_record_batch"]

# The sub-folder of the Evaluator's ``evaluation`` artifact holding the statistics of the
# candidate model's predictions (``<evaluation>/prediction_statistics/FeatureStats.pb``).
PREDICTION_STATISTICS_DIR = "prediction_statistics"


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


def features_record_batch(rows: Sequence[dict[str, Any]]) -> Any:
    """Rows of :func:`prediction_features` as an Arrow batch of one-value lists (a feature a row
    lacks is null there), as tfx-bsl decodes tf.Examples: what TFDV's statistics read."""
    import pyarrow as pa

    names = sorted({name for row in rows for name in row})
    columns = [pa.array([[row[name]] if name in row else None for row in rows]) for name in names]
    return pa.RecordBatch.from_arrays(columns, names)

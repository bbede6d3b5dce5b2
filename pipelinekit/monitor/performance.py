"""Real performance per window with TFMA, on the joined (prediction, label) pairs, with the
Evaluator's metrics and slices (its EvalConfig, as a text proto ``.pbtxt`` or JSON ``.json``)."""

from __future__ import annotations

from typing import Any

from pipelinekit.monitor.errors import MonitorConfigError

__all__ = ["load_eval_config", "performance"]


def load_eval_config(path: str) -> Any:
    import tensorflow_model_analysis as tfma
    from google.protobuf import json_format, text_format

    try:
        with open(path) as handle:
            text = handle.read()
        if path.endswith(".json"):
            return json_format.Parse(text, tfma.EvalConfig())
        return text_format.Parse(text, tfma.EvalConfig())
    except OSError as error:
        raise MonitorConfigError(f"eval_config {path} cannot be read: {error.strerror}") from error
    except (text_format.ParseError, json_format.ParseError) as error:
        raise MonitorConfigError(f"eval_config {path} is not a TFMA EvalConfig: {error}") from error


def performance(
    pairs: list[tuple[bytes, dict[str, list[Any]], Any]], eval_config: Any
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """TFMA's metrics of ``pairs`` (example, prediction, label): the overall ones and, per slice
    (``feature=value``), the sliced ones."""
    import pandas as pd
    import tensorflow as tf
    import tensorflow_model_analysis as tfma

    spec = eval_config.model_specs[0]
    label_key, prediction_key = spec.label_key or "label", spec.prediction_key or "scores"
    slice_keys = sorted({k for s in eval_config.slicing_specs for k in s.feature_keys})
    columns: dict[str, list[Any]] = {label_key: [], prediction_key: [], **{k: [] for k in slice_keys}}
    for example, prediction, label in pairs:
        features = tf.train.Example.FromString(example).features.feature if slice_keys else {}
        columns[label_key].append(label)
        columns[prediction_key].append(_prediction(prediction, prediction_key))
        for key in slice_keys:
            columns[key].append(_first(features[key]) if key in features else None)
    result = tfma.analyze_raw_data(pd.DataFrame(columns), eval_config)
    overall: dict[str, float] = {}
    sliced: dict[str, dict[str, float]] = {}
    for slice_key, by_output in result.slicing_metrics:
        numbers = {(k.name if hasattr(k, "name") else str(k)): _number(v) for k, v in by_output[""][""].items()}
        values = {str(k): v for k, v in numbers.items() if v is not None}
        if slice_key == ():
            overall = values
        else:
            sliced[",".join(f"{k}={v}" for k, v in slice_key)] = values
    return overall, sliced


def _prediction(prediction: dict[str, list[Any]], key: str) -> Any:
    values = prediction.get(key) or prediction.get("scores") or prediction.get("value") or next(iter(prediction.values()), [])
    return values[0] if len(values) == 1 else list(values)


def _first(feature: Any) -> Any:
    kind = feature.WhichOneof("kind")
    values = getattr(feature, kind).value if kind else []
    value = values[0] if len(values) else None
    return value.decode() if isinstance(value, bytes) else value


def _number(value: Any) -> float | None:
    if isinstance(value, dict):
        value = value.get("doubleValue")
    try:
        return float(value)
    except (TypeError, ValueError):
        return None

"""Reading the stored ``eval_config`` (JSON or text format) and checking that the features it
names exist, before TFMA runs, so a typo is one clear error instead of a Beam stack trace."""

from __future__ import annotations

import os
from typing import Any

from pipelinekit.components.util.errors import InputDataError

from pipelinekit.errors import RunError

__all__ = ["EvalConfigError", "parse_eval_config", "check_feature_names", "add_fairness_thresholds"]


class EvalConfigError(RunError):
    """The Evaluator's eval_config does not parse or names a label or feature the data lacks."""


def parse_eval_config(text: str) -> Any:
    """A ``tfma.EvalConfig`` from its JSON (proto or dict form) or text format."""
    import tensorflow_model_analysis as tfma
    from google.protobuf import json_format, text_format

    try:
        if text.lstrip().startswith("{"):
            return json_format.Parse(text, tfma.EvalConfig())
        return text_format.Parse(text, tfma.EvalConfig())
    except (json_format.ParseError, text_format.ParseError) as error:
        raise EvalConfigError(f"eval_config is not a valid tfma.EvalConfig: {error}") from error


def add_fairness_thresholds(config: Any, thresholds: list[float] | None) -> None:
    """TFX's ``fairness_indicator_thresholds``: a FairnessIndicators metric at those thresholds."""
    if not thresholds:
        return
    import json

    import tensorflow_model_analysis as tfma

    metric = tfma.MetricConfig(class_name="FairnessIndicators", config=json.dumps({"thresholds": list(thresholds)}))
    config.metrics_specs.add().metrics.append(metric)


def check_feature_names(config: Any, available: set[str], where: str) -> None:
    """Every label, weight and slicing feature that ``config`` names must be in ``available``."""
    named: list[tuple[str, str]] = []
    for index, spec in enumerate(config.model_specs):
        prefix = f"eval_config.model_specs[{index}]"
        if spec.label_key:
            named.append((f"{prefix}.label_key", spec.label_key))
        named += [(f"{prefix}.label_keys[{k!r}]", v) for k, v in spec.label_keys.items()]
        if spec.example_weight_key:
            named.append((f"{prefix}.example_weight_key", spec.example_weight_key))
    for index, slicing in enumerate(config.slicing_specs):
        named += [(f"eval_config.slicing_specs[{index}].feature_keys", k) for k in slicing.feature_keys]
        named += [(f"eval_config.slicing_specs[{index}].feature_values", k) for k in slicing.feature_values]
    missing = [(field, name) for field, name in named if name not in available]
    if missing:
        listed = "; ".join(f"{field} = {name!r}" for field, name in missing)
        raise EvalConfigError(
            f"{listed}: not a feature of {where}. Available: {', '.join(sorted(available))}. Fix the name in eval_config"
        )


def example_feature_names(pattern: str, schema: Any = None) -> set[str]:
    """The feature names of the first tf.Example in the gzipped TFRecords matching ``pattern``,
    and with a ``schema`` every feature TFXIO decodes from it: each of those arrives, also from
    a split where no record has it (a nearly empty column whose values all fell in another)."""
    import tensorflow as tf
    from tfx_bsl.public import tfxio

    files = tf.io.gfile.glob(pattern)
    if not files:
        raise InputDataError(f"no example files match {pattern}")
    decoded = set(tfxio.TFExampleRecord(pattern, schema=schema).TensorRepresentations()) if schema is not None else set()
    for record in tf.data.TFRecordDataset(files[:1], compression_type="GZIP").take(1):
        return decoded | set(tf.train.Example.FromString(record.numpy()).features.feature)
    raise InputDataError(f"{files[0]} holds no examples")


def signature_output_names(saved_model_dir: str, signature_names: list[str]) -> set[str]:
    """Output names of the given signatures of the SavedModel (the features preprocessing adds)."""
    from tensorflow.core.protobuf import saved_model_pb2

    with open(os.path.join(saved_model_dir, "saved_model.pb"), "rb") as handle:
        saved_model = saved_model_pb2.SavedModel.FromString(handle.read())
    names: set[str] = set()
    for meta_graph in saved_model.meta_graphs:
        for signature in signature_names:
            if signature in meta_graph.signature_def:
                names.update(meta_graph.signature_def[signature].outputs)
    return names

"""The Evaluator's blessing: BLESSED or NOT_BLESSED, TFX's custom properties, and readable reasons."""

from __future__ import annotations

import logging
from typing import Any

from google.protobuf import text_format

from pipelinekit.types.standard import Model, ModelBlessing

__all__ = ["bless", "failure_reasons"]

NO_THRESHOLDS = "no thresholds are configured in eval_config, so nothing was validated; blessed without checks"


def bless(
    blessing: ModelBlessing,
    evaluation_uri: str,
    has_thresholds: bool,
    model: Model | None,
    baseline: Model | None,
    logger: logging.Logger | logging.LoggerAdapter,
) -> None:
    """Write the verdict for the evaluation at ``evaluation_uri`` into ``blessing``."""
    if model is not None:
        blessing.current_model = model.uri
        blessing.current_model_id = _artifact_id(model)
    if baseline is not None:
        blessing.baseline_model = baseline.uri
        blessing.baseline_model_id = _artifact_id(baseline)
    if not has_thresholds:
        logger.warning("Evaluator: %s", NO_THRESHOLDS)
        blessing.mark(True)
        blessing.set_custom_property("reason", NO_THRESHOLDS)
        return
    import tensorflow_model_analysis as tfma

    result = tfma.load_validation_result(evaluation_uri)
    reasons = failure_reasons(result)
    blessing.mark(bool(result.validation_ok))
    if result.validation_ok:
        blessing.set_custom_property("reason", "every metric threshold in eval_config is met")
    else:
        blessing.set_custom_property("reason", "\n".join(reasons))
        logger.warning("Evaluator: NOT_BLESSED:\n%s", "\n".join(reasons))


def _artifact_id(artifact: Model) -> int:
    return int(artifact.id) if artifact.id is not None else 0


def failure_reasons(result: Any) -> list[str]:
    """One line per failed check: slice, metric, its value and the threshold it missed."""
    lines = []
    for per_slice in result.metric_validations_per_slice:
        where = _slice_text(per_slice.slice_key) if per_slice.HasField("slice_key") else "cross slice"
        for failure in per_slice.failures:
            key = failure.metric_key
            kind = "change vs baseline" if key.is_diff else "value"
            value = _value_text(failure.metric_value)
            threshold = text_format.MessageToString(failure.metric_threshold, as_one_line=True)
            lines.append(f"slice {where}: {key.name} {kind} = {value} does not meet {{{threshold}}}")
    for missing in result.missing_slices:
        lines.append(f"slice {text_format.MessageToString(missing, as_one_line=True)} has no examples to validate")
    return lines or ["TFMA reported a failed validation without details"]


def _slice_text(slice_key: Any) -> str:
    parts = []
    for single in slice_key.single_slice_keys:
        kind = single.WhichOneof("kind")
        value = getattr(single, kind) if kind else ""
        parts.append(f"{single.column}={value.decode() if isinstance(value, bytes) else value}")
    return " and ".join(parts) or "overall"


def _value_text(value: Any) -> str:
    if value.HasField("double_value"):
        return f"{value.double_value.value:.4g}"
    return text_format.MessageToString(value, as_one_line=True) or "missing"

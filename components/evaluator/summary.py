"""The candidate model's overall metrics, kept in ML Metadata as the evaluation's ``metrics``
custom property, so the registry and ``pipelinekit runs compare`` read them without TFMA."""

from __future__ import annotations

from typing import Any

__all__ = ["overall_metrics"]


def overall_metrics(output_path: str) -> dict[str, float]:
    """``{metric name: value}`` over all examples (no slice), for the candidate model only."""
    import tensorflow_model_analysis as tfma

    metrics: dict[str, float] = {}
    for per_slice in tfma.load_metrics(output_path):
        if per_slice.slice_key.single_slice_keys:
            continue
        for entry in per_slice.metric_keys_and_values:
            if _is_candidate_value(entry.key) and entry.value.HasField("double_value"):
                metrics[entry.key.name] = float(entry.value.double_value.value)
    return metrics


def _is_candidate_value(key: Any) -> bool:
    return not key.is_diff and not key.HasField("sub_key") and key.model_name in ("", "candidate")

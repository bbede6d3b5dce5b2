"""ExampleValidator executor: ``tfdv.validate_statistics`` per split."""

from __future__ import annotations

import os
from typing import Any

from components.util.errors import AnomaliesFoundError
from components.util.tfdv_io import ANOMALIES_FILE, STATS_FILE, load_schema, load_stats, selected_splits
from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.types.standard import ExampleAnomalies, ExampleStatistics, Schema

__all__ = ["run", "describe_anomalies"]


def run(
    context: ExecutionContext,
    statistics: ExampleStatistics,
    schema: Schema,
    anomalies: ExampleAnomalies,
    baseline_statistics: ExampleStatistics | None = None,
    exclude_splits: list[str] | None = None,
    custom_validation_config: str | None = None,
    fail_on_anomalies: bool = False,
) -> None:
    import tensorflow_data_validation as tfdv

    loaded_schema = load_schema(schema)
    config = _custom_config(custom_validation_config)
    splits = selected_splits(statistics, exclude_splits, "ExampleValidator")
    blessed, found = {}, {}
    for split in splits:
        result = tfdv.validate_statistics(
            load_stats(os.path.join(statistics.split_uri(split), STATS_FILE)),
            loaded_schema,
            previous_statistics=_baseline(baseline_statistics, split),
            custom_validation_config=config,
        )
        os.makedirs(anomalies.split_uri(split), exist_ok=True)
        with open(os.path.join(anomalies.split_uri(split), ANOMALIES_FILE), "wb") as handle:
            handle.write(result.SerializeToString())
        blessed[split] = 0 if _has_anomalies(result) else 1
        found[split] = result
    if fail_on_anomalies and not all(blessed.values()):
        raise AnomaliesFoundError(
            "ExampleValidator found anomalies (fail_on_anomalies=True), so nothing downstream runs:\n"
            + describe_anomalies(found)
            + "\nFix the data, or update the curated schema if the change is intended."
        )
    anomalies.splits = splits
    if statistics.span is not None:
        anomalies.span = statistics.span
    anomalies.set_custom_property("blessed", blessed)


def describe_anomalies(by_split: dict[str, Any]) -> str:
    """One line per anomaly: split, feature, kind and description."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    lines = []
    for split, result in by_split.items():
        for feature, info in sorted(result.anomaly_info.items()):
            kinds = ", ".join(anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason) or "UNKNOWN_TYPE"
            lines.append(f"  - split {split!r}, feature {feature!r}: {kinds}: {info.description or info.short_description}")
        if result.HasField("dataset_anomaly_info"):
            lines.append(f"  - split {split!r}, dataset: {result.dataset_anomaly_info.description}")
    return "\n".join(lines)


def _has_anomalies(result: Any) -> bool:
    return bool(result.anomaly_info) or bool(result.dataset_anomaly_info.reason) or bool(result.drift_skew_info)


def _baseline(baseline: ExampleStatistics | None, split: str) -> Any:
    """The baseline's statistics of the same split (or of its only/first split)."""
    if baseline is None:
        return None
    names = baseline.splits
    chosen = split if split in names else (names[0] if names else None)
    return load_stats(os.path.join(baseline.split_uri(chosen), STATS_FILE)) if chosen else None


def _custom_config(text: str | None) -> Any:
    if not text:
        return None
    from google.protobuf import text_format
    from tensorflow_data_validation.anomalies.proto import custom_validation_config_pb2

    return text_format.Parse(text, custom_validation_config_pb2.CustomValidationConfig())

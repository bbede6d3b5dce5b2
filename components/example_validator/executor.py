"""ExampleValidator executor: ``tfdv.validate_statistics`` per split."""

from __future__ import annotations

import os
from typing import Any

from pipelinekit.components.util.custom_validation import parse_custom_validation
from pipelinekit.components.util.errors import AnomaliesFoundError
from pipelinekit.components.util.tfdv_io import ANOMALIES_FILE, STATS_FILE, load_schema, load_stats, selected_splits

from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.types.standard import ExampleAnomalies, ExampleStatistics, Schema

__all__ = ["run_example_validator", "describe_anomalies"]


def run_example_validator(
    context: ExecutionContext,
    statistics: ExampleStatistics,
    schema: Schema,
    anomalies: ExampleAnomalies,
    baseline_statistics: ExampleStatistics | None = None,
    serving_statistics: ExampleStatistics | None = None,
    exclude_splits: list[str] | None = None,
    custom_validation_config: str | None = None,
    fail_on_anomalies: bool = False,
) -> None:
    import tensorflow_data_validation as tfdv

    loaded_schema = load_schema(schema)
    config = parse_custom_validation(custom_validation_config)
    splits = selected_splits(statistics, exclude_splits, "ExampleValidator")
    blessed, found, compared = {}, {}, {}
    for split in splits:
        others = {"baseline_statistics": baseline_statistics, "serving_statistics": serving_statistics}
        chosen = {role: _matching_split(context, other, split, role) for role, other in others.items() if other is not None}
        result = tfdv.validate_statistics(
            load_stats(os.path.join(statistics.split_uri(split), STATS_FILE)),
            loaded_schema,
            previous_statistics=_split_stats(baseline_statistics, chosen.get("baseline_statistics")),
            serving_statistics=_split_stats(serving_statistics, chosen.get("serving_statistics")),
            custom_validation_config=config,
        )
        if chosen:
            compared[split] = chosen
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
    if compared:
        anomalies.set_custom_property("compared_splits", compared)


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


def _matching_split(context: ExecutionContext, other: ExampleStatistics, split: str, role: str) -> str | None:
    """The split of ``other`` to compare ``split`` with: the same name, else (with a warning)
    its first split; None when it has no splits."""
    names = other.splits
    if split in names or not names:
        return split if names else None
    context.logger.warning(
        "ExampleValidator: %s has no split %r (its splits: %s), so split %r is compared with its split %r; "
        "give both artifacts the same split names to compare like with like (recorded in the anomalies' compared_splits)",
        role, split, names, split, names[0],
    )
    return names[0]


def _split_stats(other: ExampleStatistics | None, split: str | None) -> Any:
    if other is None or split is None:
        return None
    return load_stats(os.path.join(other.split_uri(split), STATS_FILE))


"""DistributionValidator executor: ``tfdv.validate_statistics`` of each split pair against a
schema that carries only the config's comparators, keeping only the comparison anomalies."""

from __future__ import annotations

import os
from typing import Any

from pipelinekit.components.util.arguments import parse_proto
from pipelinekit.components.util.custom_validation import parse_custom_validation
from pipelinekit.components.util.errors import InputDataError
from pipelinekit.components.util.split_pairs import choose_split_pairs, pair_folder, pair_name
from pipelinekit.components.util.tfdv_io import ANOMALIES_FILE, STATS_FILE, load_stats

from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.types.standard import ExampleAnomalies, ExampleStatistics

__all__ = ["run_distribution_validator", "comparison_anomalies", "BLESSED", "NOT_BLESSED", "NO_BASELINE"]

BLESSED, NOT_BLESSED, NO_BASELINE = 1, 0, 2
"""TFX's values of the ``blessed`` custom property, per split pair (per split when no baseline)."""

_COMPARISON_TYPES = (
    "COMPARATOR_CONTROL_DATA_MISSING",
    "COMPARATOR_TREATMENT_DATA_MISSING",
    "COMPARATOR_L_INFTY_HIGH",
    "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH",
    "COMPARATOR_NORMALIZED_ABSOLUTE_DIFFERENCE_HIGH",
    "COMPARATOR_LOW_NUM_EXAMPLES",
    "COMPARATOR_HIGH_NUM_EXAMPLES",
    "CUSTOM_VALIDATION",
)
"""The anomaly types a comparison (or a custom validation) raises; the schema checks TFDV runs
alongside them judge an inferred schema, not the data, and are dropped. TFX 1.16 drops
COMPARATOR_NORMALIZED_ABSOLUTE_DIFFERENCE_HIGH as well, so its normalized_abs_difference
comparator can never fail a pair; here it does."""


def run_distribution_validator(
    context: ExecutionContext,
    statistics: ExampleStatistics,
    anomalies: ExampleAnomalies,
    distribution_validator_config: str,
    baseline_statistics: ExampleStatistics | None = None,
    include_split_pairs: str | None = None,
    custom_validation_config: str | None = None,
) -> None:
    from pipelinekit.proto import distribution_validator_pb2

    if baseline_statistics is None:
        context.logger.warning(
            "DistributionValidator: no baseline statistics (a resolver's first run?), so splits %s pass unchecked (blessed=%d)",
            statistics.splits,
            NO_BASELINE,
        )
        anomalies.set_custom_property("blessed", {split: NO_BASELINE for split in statistics.splits})
        return
    config = parse_proto(distribution_validator_config, distribution_validator_pb2.DistributionValidatorConfig)
    if not config.default_slice_config.feature and not config.default_slice_config.HasField("num_examples_comparator"):
        context.logger.warning(
            "DistributionValidator: the config has no feature comparators and no num_examples_comparator; nothing is compared"
        )
    custom = parse_custom_validation(custom_validation_config)
    pairs = choose_split_pairs(statistics, baseline_statistics, include_split_pairs, "DistributionValidator", default="same")
    blessed = {}
    for test, base in pairs:
        current = load_stats(os.path.join(statistics.split_uri(test), STATS_FILE))
        baseline = load_stats(os.path.join(baseline_statistics.split_uri(base), STATS_FILE))
        _check_comparators_fit(config, baseline, pair_name(test, base))
        result = _compare(config, current, baseline, custom)
        for feature in _not_compared(result):
            context.logger.warning(
                "DistributionValidator: split pair %s: feature %r could not be compared", pair_name(test, base), feature
            )
        blessed[pair_name(test, base)] = (
            NOT_BLESSED if result.anomaly_info or result.HasField("dataset_anomaly_info") else BLESSED
        )
        folder = pair_folder(anomalies.uri, test, base)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, ANOMALIES_FILE), "wb") as handle:
            handle.write(result.SerializeToString())
    anomalies.splits = [pair_name(test, base) for test, base in pairs]
    if statistics.span is not None:
        anomalies.span = statistics.span
    anomalies.set_custom_property("blessed", blessed)


def _compare(config: Any, current: Any, baseline: Any, custom: Any) -> Any:
    import tensorflow_data_validation as tfdv

    full = tfdv.validate_statistics(
        current, _schema_with_comparators(config, baseline), previous_statistics=baseline, custom_validation_config=custom
    )
    return _flag_not_compared(comparison_anomalies(full), config, current, baseline)


def _check_comparators_fit(config: Any, baseline: Any, pair: str) -> None:
    """Refuse a categorical-only comparator (infinity_norm, normalized_abs_difference) on a
    feature the baseline holds as numeric: TFDV measures 0 there, so it could never fail (TFX
    passes such a pair silently)."""
    numeric = {
        ".".join(f.path.step) or f.name for dataset in baseline.datasets for f in dataset.features if f.HasField("num_stats")
    }
    for feature in config.default_slice_config.feature:
        name = ".".join(feature.path.step)
        wrong = [kind for kind in _CATEGORICAL_ONLY if feature.distribution_comparator.HasField(kind)]
        if name in numeric and wrong:
            raise InputDataError(
                f"DistributionValidator: split pair {pair}: feature {name!r} is numeric in the baseline statistics, but its "
                f"comparator uses {' and '.join(wrong)}, which compares categorical values only (TFDV measures 0 for a numeric "
                "feature, so it never finds drift); use jensen_shannon_divergence for numeric features"
            )


_CATEGORICAL_ONLY = ("infinity_norm", "normalized_abs_difference")


def _schema_with_comparators(config: Any, baseline: Any) -> Any:
    """The schema TFDV infers from the baseline, with each configured feature's drift
    comparator and the dataset's num-examples comparator from the config."""
    import tensorflow_data_validation as tfdv
    from tensorflow_data_validation.utils import path, schema_util

    schema = tfdv.infer_schema(baseline)
    for feature in config.default_slice_config.feature:
        try:
            found = schema_util.get_feature(schema, path.FeaturePath.from_proto(feature.path))
        except ValueError:
            continue  # not in the baseline: flagged as not compared
        found.drift_comparator.CopyFrom(feature.distribution_comparator)
    if config.default_slice_config.HasField("num_examples_comparator"):
        schema.dataset_constraints.num_examples_drift_comparator.CopyFrom(config.default_slice_config.num_examples_comparator)
    return schema


def comparison_anomalies(full: Any) -> Any:
    """A copy of ``full`` holding only the comparison anomalies, without the descriptions and
    diff regions TFDV writes for all of a feature's anomalies together (as TFX keeps them)."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    keep = {anomalies_pb2.AnomalyInfo.Type.Value(name) for name in _COMPARISON_TYPES}
    result = anomalies_pb2.Anomalies()
    result.CopyFrom(full)
    for name in list(result.anomaly_info):
        info = result.anomaly_info[name]
        _keep_reasons(info, keep)
        if not info.reason:
            del result.anomaly_info[name]
    _keep_reasons(result.dataset_anomaly_info, keep)
    if not result.dataset_anomaly_info.reason:
        result.ClearField("dataset_anomaly_info")
    result.ClearField("data_missing")
    return result


def _keep_reasons(info: Any, keep: set[int]) -> None:
    for field in ("description", "short_description", "diff_regions"):
        info.ClearField(field)
    reasons = [reason for reason in info.reason if reason.type in keep]
    del info.reason[:]
    info.reason.extend(reasons)


def _flag_not_compared(result: Any, config: Any, current: Any, baseline: Any) -> Any:
    """An anomaly (TFX's STATS_NOT_AVAILABLE, severity ERROR) for each configured feature TFDV
    measured no distance for, saying which statistics lack it."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    measured = {".".join(info.path.step) for info in result.drift_skew_info}
    present = {role: _feature_names(stats) for role, stats in (("baseline", baseline), ("current", current))}
    result.anomaly_name_format = anomalies_pb2.Anomalies.AnomalyNameFormat.SERIALIZED_PATH
    for feature in config.default_slice_config.feature:
        name = ".".join(feature.path.step)
        if name in measured:
            continue
        info = result.anomaly_info[name]
        info.path.CopyFrom(feature.path)
        info.severity = anomalies_pb2.AnomalyInfo.Severity.ERROR
        reason = info.reason.add(
            type=anomalies_pb2.AnomalyInfo.Type.STATS_NOT_AVAILABLE, short_description="Comparison could not be done."
        )
        reason.description = _why_not_compared(name, name in present["baseline"], name in present["current"])
    return result


def _why_not_compared(name: str, in_baseline: bool, in_current: bool) -> str:
    if not in_baseline:
        return f"Feature {name!r} is not in the baseline statistics, so it could not be compared; check the feature name."
    if not in_current:
        return f"Feature {name!r} is not in the current statistics, so it could not be compared: the current data lacks it."
    return f"TFDV measured no distance for feature {name!r}; check that its comparator fits its type."


def _feature_names(statistics: Any) -> set[str]:
    return {".".join(f.path.step) or f.name for dataset in statistics.datasets for f in dataset.features}


def _not_compared(result: Any) -> list[str]:
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    flagged = anomalies_pb2.AnomalyInfo.Type.STATS_NOT_AVAILABLE
    return sorted(name for name, info in result.anomaly_info.items() if any(r.type == flagged for r in info.reason))

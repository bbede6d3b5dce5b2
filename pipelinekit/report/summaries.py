"""Plain, template-ready summaries of the protos the readers return: one row per feature, per
anomaly, per schema feature, per slice metric. Keeps the templates and charts free of protobuf."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FeatureSummary",
    "summarize_statistics",
    "summarize_anomalies",
    "summarize_drift",
    "summarize_schema",
    "summarize_metrics",
    "thresholds_from_eval_config",
    "summarize_match_stats",
    "summarize_feature_skew",
    "summarize_confusion",
]

TOP_VALUES = 10
TOP_CONFUSION = 5


@dataclass
class FeatureSummary:
    """One feature in one split: counts, missing values, numbers or top values, histogram buckets."""

    name: str
    split: str
    kind: str
    count: int
    missing: int
    numbers: dict[str, float] = field(default_factory=dict)
    unique: int | None = None
    top_values: list[tuple[str, float]] = field(default_factory=list)
    buckets: list[tuple[float, float, float]] = field(default_factory=list)

    @property
    def missing_fraction(self) -> float:
        total = self.count + self.missing
        return self.missing / total if total else 0.0


def _path(feature: Any) -> str:
    return ".".join(feature.path.step) if feature.HasField("path") else feature.name


def summarize_statistics(by_split: dict[str, Any]) -> list[FeatureSummary]:
    """Every feature of every split (``split -> DatasetFeatureStatistics``), ordered by feature name."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    rows = []
    for split, dataset in by_split.items():
        for feature in dataset.features:
            kind = statistics_pb2.FeatureNameStatistics.Type.Name(feature.type)
            stats_kind = feature.WhichOneof("stats")
            if stats_kind == "num_stats":
                rows.append(_numeric(feature, split, kind))
            elif stats_kind == "string_stats":
                rows.append(_strings(feature, split, kind))
            else:
                common = _common(feature)
                rows.append(FeatureSummary(_path(feature), split, kind, int(common.num_non_missing), int(common.num_missing)))
    return sorted(rows, key=lambda row: (row.name, row.split))


def _common(feature: Any) -> Any:
    kind = feature.WhichOneof("stats")
    return (
        getattr(feature, kind).common_stats
        if kind in ("num_stats", "string_stats", "bytes_stats", "struct_stats")
        else feature.num_stats.common_stats
    )


def _numeric(feature: Any, split: str, kind: str) -> FeatureSummary:
    from tensorflow_metadata.proto.v0 import statistics_pb2

    stats = feature.num_stats
    standard = [h for h in stats.histograms if h.type == statistics_pb2.Histogram.STANDARD]
    buckets = [(b.low_value, b.high_value, b.sample_count) for b in standard[0].buckets] if standard else []
    numbers = {
        "mean": stats.mean,
        "std dev": stats.std_dev,
        "zeros": float(stats.num_zeros),
        "min": stats.min,
        "median": stats.median,
        "max": stats.max,
    }
    common = stats.common_stats
    return FeatureSummary(
        _path(feature), split, kind, int(common.num_non_missing), int(common.num_missing), numbers, buckets=buckets
    )


def _strings(feature: Any, split: str, kind: str) -> FeatureSummary:
    stats = feature.string_stats
    top = [(value.value, value.frequency) for value in stats.top_values[:TOP_VALUES]]
    if not top and stats.rank_histogram.buckets:
        top = [(b.label, b.sample_count) for b in stats.rank_histogram.buckets[:TOP_VALUES]]
    common = stats.common_stats
    return FeatureSummary(
        _path(feature),
        split,
        kind,
        int(common.num_non_missing),
        int(common.num_missing),
        unique=int(stats.unique),
        top_values=top,
    )


def summarize_anomalies(by_split: dict[str, Any]) -> list[dict[str, str]]:
    """One row per anomaly: split, feature (or ``(dataset)``), kinds, severity, description."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    rows = []
    for split, result in by_split.items():
        infos = list(result.anomaly_info.items())
        if result.HasField("dataset_anomaly_info") and result.dataset_anomaly_info.reason:
            infos.append(("(dataset)", result.dataset_anomaly_info))
        for feature, info in sorted(infos):
            rows.append(
                {
                    "split": split,
                    "feature": feature,
                    "kinds": ", ".join(anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason) or "UNKNOWN_TYPE",
                    "severity": anomalies_pb2.AnomalyInfo.Severity.Name(info.severity),
                    "description": info.description or info.short_description,
                }
            )
    return rows


def summarize_drift(by_split: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per drift or skew measurement TFDV made against a baseline or serving statistics."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    rows = []
    for split, result in by_split.items():
        for info in result.drift_skew_info:
            feature = ".".join(info.path.step)
            for comparison, measurements in (("drift", info.drift_measurements), ("skew", info.skew_measurements)):
                for m in measurements:
                    rows.append(
                        {
                            "split": split,
                            "feature": feature,
                            "comparison": comparison,
                            "measure": anomalies_pb2.DriftSkewInfo.Measurement.Type.Name(m.type),
                            "value": m.value,
                            "threshold": m.threshold,
                            "over": m.value > m.threshold,
                        }
                    )
    return rows


def summarize_schema(schema: Any) -> list[dict[str, str]]:
    """One row per schema feature: type, presence, valency, domain."""
    from tensorflow_metadata.proto.v0 import schema_pb2

    domains = {d.name: list(d.value) for d in schema.string_domain}
    rows = []
    for feature in schema.feature:
        presence = f"min fraction {feature.presence.min_fraction:g}" if feature.presence.HasField("min_fraction") else ""
        if feature.presence.min_count:
            presence += f"{', ' if presence else ''}min count {feature.presence.min_count}"
        domain_kind = feature.WhichOneof("domain_info")
        domain = ""
        if domain_kind == "domain":
            values = domains.get(feature.domain, [])
            domain = ", ".join(values[:12]) + (f" (+{len(values) - 12})" if len(values) > 12 else "")
        elif domain_kind:
            domain = f"{domain_kind}: {getattr(feature, domain_kind)}".replace("\n", " ").strip()
        shape = " x ".join(str(d.size) for d in feature.shape.dim) if feature.HasField("shape") else ""
        valency = (
            f"shape [{shape}]"
            if shape
            else (f"{feature.value_count.min}..{feature.value_count.max}" if feature.HasField("value_count") else "")
        )
        rows.append(
            {
                "name": feature.name,
                "type": schema_pb2.FeatureType.Name(feature.type),
                "presence": presence,
                "valency": valency,
                "domain": domain,
            }
        )
    return rows


def _slice_name(slice_key: Any) -> str:
    parts = []
    for single in slice_key.single_slice_keys:
        kind = single.WhichOneof("kind")
        value = getattr(single, kind) if kind else ""
        parts.append(f"{single.column}={value.decode() if isinstance(value, bytes) else value}")
    return " and ".join(parts) or "Overall"


def summarize_metrics(records: list[Any]) -> list[dict[str, Any]]:
    """One row per slice, model and scalar metric: ``slice``, ``model``, ``metric``, ``value``,
    ``is_diff`` (a change against the baseline)."""
    rows = []
    for record in records:
        where = _slice_name(record.slice_key)
        for item in record.metric_keys_and_values:
            value = item.value
            if value.HasField("double_value"):
                number = value.double_value.value
            elif value.WhichOneof("type") == "bounded_value":
                number = value.bounded_value.value.value
            else:
                continue
            key = item.key
            rows.append(
                {
                    "slice": where,
                    "model": key.model_name or "candidate",
                    "metric": key.name,
                    "value": number,
                    "is_diff": key.is_diff,
                }
            )
    return rows


def thresholds_from_eval_config(config: dict[str, Any]) -> dict[str, dict[str, float]]:
    """``metric -> {"lower": x, "upper": y, "change": z}`` from an eval config in JSON form."""
    thresholds: dict[str, dict[str, float]] = {}
    for spec in config.get("metricsSpecs", config.get("metrics_specs", [])):
        for metric in spec.get("metrics", []):
            threshold = metric.get("threshold", {})
            value = threshold.get("valueThreshold", threshold.get("value_threshold", {}))
            change = threshold.get("changeThreshold", threshold.get("change_threshold", {}))
            found = {}
            for key, name in (
                ("lowerBound", "lower"),
                ("lower_bound", "lower"),
                ("upperBound", "upper"),
                ("upper_bound", "upper"),
            ):
                if key in value:
                    found[name] = float(value[key])
            if "absolute" in change:
                found["change"] = float(change["absolute"])
            if found:
                name = metric.get("className", metric.get("class_name", ""))
                thresholds[_metric_key(name)] = found
    return thresholds


def _metric_key(class_name: str) -> str:
    """TFMA names a metric by its class in snake case (SparseCategoricalAccuracy -> sparse_categorical_accuracy)."""
    out = []
    for index, char in enumerate(class_name):
        if char.isupper() and index and not class_name[index - 1].isupper():
            out.append("_")
        out.append(char.lower())
    return "".join(out)


def summarize_match_stats(match: Any) -> dict[str, int]:
    """TFDV's MatchStats of a split pair: examples with an identifier per side, identifiers, pairs
    compared, identifiers found on one side only, duplicated, and examples without an identifier."""
    return {
        "base examples": match.base_with_id_count,
        "test examples": match.test_with_id_count,
        "identifiers": match.identifiers_count,
        "matched pairs": match.matching_pairs_count,
        "ids only in base": match.ids_missing_in_test_count,
        "ids only in test": match.ids_missing_in_base_count,
        "duplicate ids (skipped)": match.duplicate_id_count,
        "base without id": match.base_missing_id_count,
        "test without id": match.test_missing_id_count,
    }


def summarize_feature_skew(records: list[Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The features that differ in some matched pair, most mismatched first (then most pairs
    differing, then name), and the names of those equal in every pair. ``share`` is the part of
    the pairs compared on the feature in which it differs (mismatched, or present on one side)."""
    skewed, equal = [], []
    for r in records:
        if not r.diff_count:
            equal.append(r.feature_name)
            continue
        skewed.append(
            {
                "feature": r.feature_name,
                "base": r.base_count,
                "test": r.test_count,
                "match": r.match_count,
                "mismatch": r.mismatch_count,
                "base_only": r.base_only,
                "test_only": r.test_only,
                "diff": r.diff_count,
                "share": r.diff_count / (r.diff_count + r.match_count),
            }
        )
    skewed.sort(key=lambda row: (-row["mismatch"], -row["diff"], row["feature"]))
    return skewed, sorted(equal)


def summarize_confusion(records: list[Any]) -> list[dict[str, Any]]:
    """Per confusion feature, its (base value, test value, pairs) rows, changed values first and
    most pairs first; ``top`` are the first rows to show, ``rest`` the others."""
    by_feature: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        base, test = (v.bytes_value.decode("utf-8", errors="replace") for v in (r.base, r.test))
        by_feature.setdefault(r.feature_name, []).append({"base": base, "test": test, "count": r.count, "changed": base != test})
    found = []
    for feature, rows in sorted(by_feature.items()):
        rows.sort(key=lambda row: (not row["changed"], -row["count"], row["base"], row["test"]))
        found.append(
            {
                "feature": feature,
                "pairs": sum(row["count"] for row in rows),
                "changed": sum(row["count"] for row in rows if row["changed"]),
                "top": rows[:TOP_CONFUSION],
                "rest": rows[TOP_CONFUSION:],
            }
        )
    return found

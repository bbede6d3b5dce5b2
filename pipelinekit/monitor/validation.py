"""Served statistics against a version's training statistics and schema, with TFDV's comparators.

Skew compares the served window with the training statistics (the schema's ``skew_comparator``);
drift compares it with the previous window of the same version, or the training statistics for the
first window (``drift_comparator``); the served statistics are also checked against the schema.
Features whose schema has no comparator get the monitor's defaults: Jensen-Shannon divergence for
numeric features, L-infinity distance for categorical ones.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["Comparators", "Validation", "with_comparators", "validate"]


@dataclasses.dataclass(frozen=True)
class Comparators:
    """Default thresholds for features whose schema sets none (``None``: no default)."""

    jensen_shannon: float | None = 0.1
    linf: float | None = 0.1


@dataclasses.dataclass
class Validation:
    served: Any  # Anomalies: the served window against the schema, and its drift
    skew: Any  # Anomalies: training against the served window (skew)
    drift: dict[str, float]  # feature -> the largest drift measurement over its threshold
    skewed: dict[str, float]  # feature -> the largest skew measurement over its threshold

    def metrics(self) -> dict[str, float]:
        return {
            "drift_features": float(sum(v > 1 for v in self.drift.values())),
            "drift_ratio": max(self.drift.values(), default=0.0),
            "skew_features": float(sum(v > 1 for v in self.skewed.values())),
            "skew_ratio": max(self.skewed.values(), default=0.0),
            "schema_anomalies": float(len(self.served.anomaly_info)),
        }


def with_comparators(schema: Any, defaults: Comparators) -> Any:
    """A copy of ``schema`` where each feature without a skew or drift comparator gets the default one."""
    from tensorflow_metadata.proto.v0 import schema_pb2

    copy = schema_pb2.Schema()
    copy.CopyFrom(schema)
    for feature in copy.feature:
        categorical = (
            feature.type == schema_pb2.BYTES
            or feature.HasField("domain")
            or feature.HasField("int_domain")
            and feature.int_domain.is_categorical
        )
        for comparator in (feature.skew_comparator, feature.drift_comparator):
            if comparator.HasField("infinity_norm") or comparator.HasField("jensen_shannon_divergence"):
                continue
            if categorical and defaults.linf is not None:
                comparator.infinity_norm.threshold = defaults.linf
            elif not categorical and defaults.jensen_shannon is not None:
                comparator.jensen_shannon_divergence.threshold = defaults.jensen_shannon
    return copy


def validate(served: Any, training: Any, schema: Any, previous: Any | None) -> Validation:
    """Validate one version's served statistics; ``previous``: its last window's (drift), if any."""
    import tensorflow_data_validation as tfdv

    served_anomalies = tfdv.validate_statistics(served, schema, previous_statistics=previous or training)
    skew_anomalies = tfdv.validate_statistics(training, schema, serving_statistics=served)
    return Validation(
        served_anomalies,
        skew_anomalies,
        _ratios(served_anomalies, "drift_measurements"),
        _ratios(skew_anomalies, "skew_measurements"),
    )


def _ratios(anomalies: Any, field: str) -> dict[str, float]:
    """Feature -> its largest measurement divided by its threshold (above 1: over the threshold)."""
    ratios: dict[str, float] = {}
    for info in anomalies.drift_skew_info:
        name = ".".join(info.path.step)
        for measurement in getattr(info, field):
            if measurement.threshold > 0:
                ratios[name] = max(ratios.get(name, 0.0), measurement.value / measurement.threshold)
    return ratios

"""A small summary of the statistics, kept in ML Metadata as the artifact's ``summary`` custom
property, so ``pipelinekit runs compare`` shows a statistics diff without reading the files."""

from __future__ import annotations

import os
from typing import Any

from pipelinekit.components.util.tfdv_io import STATS_FILE, load_stats

__all__ = ["MAX_FEATURES", "statistics_summary"]

MAX_FEATURES = 200


def statistics_summary(uri_of_split: dict[str, str]) -> dict[str, Any]:
    """``{split: {"num_examples": n, "features": {name: {mean, std_dev | unique, missing}}}}``."""
    return {split: _split_summary(load_stats(os.path.join(folder, STATS_FILE))) for split, folder in sorted(uri_of_split.items())}


def _split_summary(stats: Any) -> dict[str, Any]:
    dataset = stats.datasets[0]
    features: dict[str, Any] = {}
    for feature in list(dataset.features)[:MAX_FEATURES]:
        name = ".".join(feature.path.step) or feature.name
        if feature.HasField("num_stats"):
            numbers = feature.num_stats
            features[name] = {"mean": numbers.mean, "std_dev": numbers.std_dev, "missing": numbers.common_stats.num_missing}
        elif feature.HasField("string_stats"):
            strings = feature.string_stats
            features[name] = {"unique": strings.unique, "missing": strings.common_stats.num_missing}
    return {"num_examples": dataset.num_examples, "features": features}

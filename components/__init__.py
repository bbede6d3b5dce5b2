"""The standard components, under TFX's names and constructor arguments.

Names load lazily (module ``__getattr__``), so ``import components`` is cheap and each
component's package, and never its executor, is imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "CsvExampleGen": "pipelinekit.components.example_gen",
    "ImportExampleGen": "pipelinekit.components.example_gen",
    "StatisticsGen": "pipelinekit.components.statistics_gen",
    "SchemaGen": "pipelinekit.components.schema_gen",
    "ImportSchemaGen": "pipelinekit.components.schema_gen",
    "ExampleValidator": "pipelinekit.components.example_validator",
    "DistributionValidator": "pipelinekit.components.distribution_validator",
    "ExampleDiff": "pipelinekit.components.example_diff",
    "Transform": "pipelinekit.components.transform",
    "Trainer": "pipelinekit.components.trainer",
    "Tuner": "pipelinekit.components.tuner",
    "Evaluator": "pipelinekit.components.evaluator",
    "InfraValidator": "pipelinekit.components.infra_validator",
    "Pusher": "pipelinekit.components.pusher",
    "BulkInferrer": "pipelinekit.components.bulk_inferrer",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'components' has no attribute {name!r}; the standard components are: {', '.join(__all__)}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

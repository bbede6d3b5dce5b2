"""The standard components, under TFX's names and constructor arguments.

Names load lazily (module ``__getattr__``), so ``import components`` is cheap and each
component's package, and never its executor, is imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "CsvExampleGen": "components.example_gen",
    "ImportExampleGen": "components.example_gen",
    "StatisticsGen": "components.statistics_gen",
    "SchemaGen": "components.schema_gen",
    "ImportSchemaGen": "components.schema_gen",
    "ExampleValidator": "components.example_validator",
    "Transform": "components.transform",
    "Trainer": "components.trainer",
    "Tuner": "components.tuner",
    "Evaluator": "components.evaluator",
    "InfraValidator": "components.infra_validator",
    "Pusher": "components.pusher",
    "BulkInferrer": "components.bulk_inferrer",
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

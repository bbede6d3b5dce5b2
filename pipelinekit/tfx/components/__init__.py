"""``tfx.v1.components``: the standard components plus ``FnArgs``, ``DataAccessor`` and
``TunerFnResult`` for module files; each loads on first use."""

from __future__ import annotations

from pipelinekit.tfx._lazy import lazy_names

_HOMES = {
    name: "pipelinekit.components"
    for name in (
        "CsvExampleGen",
        "ImportExampleGen",
        "StatisticsGen",
        "SchemaGen",
        "ImportSchemaGen",
        "ExampleValidator",
        "DistributionValidator",
        "ExampleDiff",
        "Transform",
        "Trainer",
        "Tuner",
        "Evaluator",
        "InfraValidator",
        "Pusher",
        "BulkInferrer",
    )
}
_HOMES |= {
    "FnArgs": "pipelinekit.components.trainer.fn_args",
    "DataAccessor": "pipelinekit.components.trainer.fn_args",
    "TunerFnResult": "pipelinekit.components.tuner",
}

__all__ = sorted(_HOMES)
__getattr__ = lazy_names(__name__, _HOMES, globals())

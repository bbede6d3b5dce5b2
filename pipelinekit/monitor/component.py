"""ModelMonitor: ``pipelinekit monitor`` as a pipeline node, with the training statistics and schema as inputs."""

from __future__ import annotations

from pipelinekit.components.util.arguments import given
from pipelinekit.dsl.component import Component
from pipelinekit.dsl.spec import InputSpec, OutputSpec, ParameterSpec
from pipelinekit.types.standard import ExampleAnomalies, ExampleStatistics, Schema

__all__ = ["ModelMonitor"]


class ModelMonitor(Component):
    """Monitors the request logs not seen yet (one window) with the policy file ``policy_file``
    (see docs/LIFECYCLE.md). ``statistics`` (its ``split``) and ``schema`` are the baseline of
    every served version the policy names no baseline for. Outputs, per served version ``v``
    (``model_N``): ``served_statistics`` split ``v`` and ``anomalies`` splits ``v`` (drift and
    schema) and ``v-skew``; ``anomalies`` has the window's report as custom property ``report``
    (JSON) and ``blessed`` = ``{split: 1 or 0}`` as ExampleValidator writes it.
    """

    EXECUTOR = "pipelinekit.monitor.executor:run_model_monitor"
    statistics = InputSpec(ExampleStatistics)
    schema = InputSpec(Schema)
    served_statistics = OutputSpec(ExampleStatistics)
    anomalies = OutputSpec(ExampleAnomalies)
    policy_file = ParameterSpec(str)
    split = ParameterSpec(str, default="train")

    def __init__(self, statistics: object, schema: object, policy_file: str, split: str = "train") -> None:
        super().__init__(**given(statistics=statistics, schema=schema, policy_file=policy_file, split=split))

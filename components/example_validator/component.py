"""ExampleValidator with TFX's constructor, plus two options of ours."""

from __future__ import annotations

from typing import Any

from pipelinekit.components.util.arguments import given
from pipelinekit.components.util.custom_validation import custom_validation_text

from pipelinekit.dsl.component import Component
from pipelinekit.dsl.node import Channel
from pipelinekit.dsl.spec import InputSpec, OutputSpec, ParameterSpec
from pipelinekit.types.standard import ExampleAnomalies, ExampleStatistics, Schema

__all__ = ["ExampleValidator"]


class ExampleValidator(Component):
    """TFDV anomalies of each split, ``Split-<name>/SchemaDiff.pb``, and the custom property
    ``blessed`` = ``{split: 1 or 0}``, as TFX writes them.

    Beyond TFX: ``baseline_statistics`` (e.g. the previous span's, from a Resolver) turns on
    the schema's drift comparators, ``serving_statistics`` (statistics of serving data) its
    skew comparators; ``fail_on_anomalies=True`` fails the node, so nothing downstream runs,
    with a message listing every anomaly.
    """

    EXECUTOR = "pipelinekit.components.example_validator.executor:run_example_validator"
    statistics = InputSpec(ExampleStatistics)
    schema = InputSpec(Schema)
    baseline_statistics = InputSpec(ExampleStatistics, optional=True)
    serving_statistics = InputSpec(ExampleStatistics, optional=True)
    anomalies = OutputSpec(ExampleAnomalies)
    exclude_splits = ParameterSpec(list[str], default=[])
    custom_validation_config = ParameterSpec(str, default=None)
    fail_on_anomalies = ParameterSpec(bool, default=False)

    def __init__(
        self,
        statistics: Channel,
        schema: Channel,
        exclude_splits: list[str] | None = None,
        custom_validation_config: Any = None,
        baseline_statistics: Channel | None = None,
        fail_on_anomalies: bool = False,
        serving_statistics: Channel | None = None,
    ) -> None:
        super().__init__(
            **given(
                statistics=statistics,
                schema=schema,
                baseline_statistics=baseline_statistics,
                serving_statistics=serving_statistics,
                exclude_splits=exclude_splits,
                custom_validation_config=custom_validation_text(custom_validation_config),
                fail_on_anomalies=fail_on_anomalies,
            )
        )

"""StatisticsGen with TFX's constructor and output ``statistics``."""

from __future__ import annotations

from typing import Any

from pipelinekit.components.util.arguments import given

from pipelinekit.dsl.component import Component
from pipelinekit.dsl.node import Channel
from pipelinekit.dsl.spec import InputSpec, OutputSpec, ParameterSpec
from pipelinekit.types.standard import Examples, ExampleStatistics, Schema

__all__ = ["StatisticsGen"]


class StatisticsGen(Component):
    """TFDV statistics of each split, ``Split-<name>/FeatureStats.pb`` (``tfdv.load_stats_binary``).

    ``stats_options`` is a ``tfdv.StatsOptions`` (stored as its JSON, as TFX does).
    """

    EXECUTOR = "pipelinekit.components.statistics_gen.executor:run_statistics_gen"
    examples = InputSpec(Examples)
    schema = InputSpec(Schema, optional=True)
    statistics = OutputSpec(ExampleStatistics)
    stats_options_json = ParameterSpec(str, default=None)
    exclude_splits = ParameterSpec(list[str], default=[])

    def __init__(
        self,
        examples: Channel,
        schema: Channel | None = None,
        stats_options: Any = None,
        exclude_splits: list[str] | None = None,
    ) -> None:
        options = stats_options.to_json() if stats_options is not None and not isinstance(stats_options, str) else stats_options
        super().__init__(**given(examples=examples, schema=schema, stats_options_json=options, exclude_splits=exclude_splits))

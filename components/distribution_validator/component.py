"""DistributionValidator with TFX 1.16's constructor, spec keys and exec properties."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipelinekit.components.util.arguments import given, required_proto_argument
from pipelinekit.components.util.custom_validation import custom_validation_text
from pipelinekit.components.util.errors import ComponentArgumentError
from pipelinekit.components.util.split_pairs import split_pairs_argument

from pipelinekit.dsl.component import Component
from pipelinekit.dsl.node import Channel
from pipelinekit.dsl.spec import InputSpec, OutputSpec, ParameterSpec
from pipelinekit.types.standard import ExampleAnomalies, ExampleStatistics

__all__ = ["DistributionValidator"]


class DistributionValidator(Component):
    """Compares ``statistics`` with ``baseline_statistics`` per split pair using the config's
    comparators (L-infinity, Jensen-Shannon, normalized absolute difference, number of
    examples) and writes ``SplitPair-<current>_<baseline>/SchemaDiff.pb`` and the custom
    property ``blessed`` = ``{pair: 1 or 0}``, as TFX does.

    When the baseline input gets no artifact (a Resolver's first run) it passes every split
    with ``blessed`` 2, as TFX's cold start does.
    """

    EXECUTOR = "pipelinekit.components.distribution_validator.executor:run_distribution_validator"
    statistics = InputSpec(ExampleStatistics)
    baseline_statistics = InputSpec(ExampleStatistics, optional=True)
    anomalies = OutputSpec(ExampleAnomalies)
    distribution_validator_config = ParameterSpec(str)
    include_split_pairs = ParameterSpec(str, default=None)
    custom_validation_config = ParameterSpec(str, default=None)

    def __init__(
        self,
        statistics: Channel,
        baseline_statistics: Channel,
        config: Any,
        include_split_pairs: Sequence[Sequence[str]] | None = None,
        custom_validation_config: Any = None,
    ) -> None:
        from pipelinekit.proto import distribution_validator_pb2

        super().__init__(
            **given(
                statistics=statistics,
                baseline_statistics=baseline_statistics,
                distribution_validator_config=required_proto_argument(
                    config,
                    distribution_validator_pb2.DistributionValidatorConfig,
                    "config",
                    "DistributionValidator",
                    check_config,
                ),
                include_split_pairs=split_pairs_argument(include_split_pairs, "DistributionValidator"),
                custom_validation_config=custom_validation_text(custom_validation_config),
            )
        )


def check_config(config: Any) -> None:
    """Refuse a feature entry that cannot compare anything: no path, no comparator, or a second
    entry for the same feature (TFX would keep only the last one, silently)."""
    seen: dict[str, int] = {}
    for index, feature in enumerate(config.default_slice_config.feature):
        name = ".".join(feature.path.step)
        where = f"DistributionValidator(config=...): default_slice_config.feature[{index}]"
        if not name:
            raise ComponentArgumentError(f"{where} has no path; set path {{ step: '<feature name>' }}")
        comparator = feature.distribution_comparator
        if not comparator.ListFields():
            raise ComponentArgumentError(
                f"{where} (feature {name!r}) has no distribution_comparator; set infinity_norm, "
                "jensen_shannon_divergence or normalized_abs_difference with a threshold"
            )
        if name in seen:
            raise ComponentArgumentError(
                f"{where}: feature {name!r} is already configured in feature[{seen[name]}]; keep one entry"
            )
        seen[name] = index

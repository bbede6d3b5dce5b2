"""ExampleDiff with TFX 1.16's constructor, spec keys and exec properties."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipelinekit.components.util.arguments import given, required_proto_argument
from pipelinekit.components.util.errors import ComponentArgumentError
from pipelinekit.components.util.split_pairs import split_pairs_argument

from pipelinekit.dsl.component import Component
from pipelinekit.dsl.node import Channel
from pipelinekit.dsl.spec import InputSpec, OutputSpec, ParameterSpec
from pipelinekit.proto import example_diff_pb2
from pipelinekit.types.standard import Examples, ExamplesDiff

__all__ = ["ExampleDiff"]


class ExampleDiff(Component):
    """Joins ``examples`` (test) with ``baseline_examples`` (base) on the config's identifier
    features and counts, per feature, the pairs whose values differ, with TFDV's feature skew
    detector on Beam. Each split pair's results are TFDV's record files under
    ``SplitPair-<test>_<base>/``: ``skew_stats`` (FeatureSkew), ``sample_pairs`` (SkewPair),
    ``match_stats`` (MatchStats) and, with confusion_config, ``confusion`` (ConfusionCount).

    Without ``include_split_pairs`` every pair of splits is compared, as in TFX.
    """

    EXECUTOR = "pipelinekit.components.example_diff.executor:run_example_diff"
    LIBRARIES = ("tensorflow", "apache-beam", "tensorflow-data-validation", "tfx-bsl")
    examples = InputSpec(Examples)
    baseline_examples = InputSpec(Examples)
    example_diff_result = OutputSpec(ExamplesDiff)
    example_diff_config = ParameterSpec(str)
    include_split_pairs = ParameterSpec(str, default=None)

    def __init__(
        self,
        examples_test: Channel,
        examples_base: Channel,
        config: Any,
        include_split_pairs: Sequence[Sequence[str]] | None = None,
    ) -> None:
        super().__init__(
            **given(
                examples=examples_test,
                baseline_examples=examples_base,
                example_diff_config=required_proto_argument(
                    config, example_diff_pb2.ExampleDiffConfig, "config", "ExampleDiff", check_config
                ),
                include_split_pairs=split_pairs_argument(include_split_pairs, "ExampleDiff"),
            )
        )


def check_config(config: Any) -> None:
    """Refuse what TFDV's skew detector would fail on mid-run: no ``paired_example_skew``, no
    identifier features, or a confusion entry without a feature name."""
    if not config.HasField("paired_example_skew"):
        raise ComponentArgumentError(
            "ExampleDiff(config=...): set paired_example_skew (tfx.proto.PairedExampleSkew(...)); it is required"
        )
    skew = config.paired_example_skew
    if not skew.identifier_features:
        raise ComponentArgumentError(
            "ExampleDiff(config=...): paired_example_skew.identifier_features is empty; name the feature(s) that identify "
            "an example in both artifacts, e.g. identifier_features=['id']"
        )
    for index, confusion in enumerate(skew.confusion_config):
        if not confusion.feature_name:
            raise ComponentArgumentError(
                f"ExampleDiff(config=...): paired_example_skew.confusion_config[{index}] has no feature_name"
            )

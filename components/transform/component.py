"""Transform with TFX's constructor; the outputs present depend on ``materialize``,
``disable_analyzer_cache`` and ``disable_statistics``, as in TFX."""

from __future__ import annotations

from typing import Any

from pipelinekit.components.util.arguments import given, proto_argument
from pipelinekit.components.util.errors import ComponentArgumentError

from pipelinekit.dsl.component import Component
from pipelinekit.dsl.node import Channel
from pipelinekit.dsl.spec import InputSpec, OutputSpec, ParameterSpec
from pipelinekit.proto import transform_pb2
from pipelinekit.types.annotations import ModuleFile
from pipelinekit.types.standard import ExampleAnomalies, Examples, ExampleStatistics, Schema, TransformCache, TransformGraph

__all__ = ["Transform"]

_STATS_OUTPUTS = ("pre_transform_schema", "pre_transform_stats", "post_transform_schema", "post_transform_stats", "post_transform_anomalies")


class Transform(Component):
    """tf.Transform: ``transform_graph`` always; ``transformed_examples`` if ``materialize``;
    ``updated_analyzer_cache`` unless ``disable_analyzer_cache``; pre/post-transform schema,
    statistics and anomalies unless ``disable_statistics``.

    The ``analyzer_cache`` input only speeds analysis up, so it is left out of the cache key:
    a rerun with nothing else changed is fully cached (TFX reruns Transform every time).
    """

    EXECUTOR = "pipelinekit.components.transform.executor:run_transform"
    examples = InputSpec(Examples)
    schema = InputSpec(Schema)
    analyzer_cache = InputSpec(TransformCache, optional=True, in_cache_key=False)
    transform_graph = OutputSpec(TransformGraph)
    transformed_examples = OutputSpec(Examples, optional=True)
    updated_analyzer_cache = OutputSpec(TransformCache, optional=True)
    pre_transform_schema = OutputSpec(Schema, optional=True)
    pre_transform_stats = OutputSpec(ExampleStatistics, optional=True)
    post_transform_schema = OutputSpec(Schema, optional=True)
    post_transform_stats = OutputSpec(ExampleStatistics, optional=True)
    post_transform_anomalies = OutputSpec(ExampleAnomalies, optional=True)
    module_file = ParameterSpec(ModuleFile, default=None)
    preprocessing_fn = ParameterSpec(str, default=None)
    stats_options_updater_fn = ParameterSpec(str, default=None)
    splits_config = ParameterSpec(str, default=None)
    force_tf_compat_v1 = ParameterSpec(bool, default=False)
    custom_config = ParameterSpec(dict, default={})
    disable_statistics = ParameterSpec(bool, default=False)

    def __init__(
        self,
        examples: Channel,
        schema: Channel,
        module_file: str | None = None,
        preprocessing_fn: str | None = None,
        splits_config: transform_pb2.SplitsConfig | None = None,
        analyzer_cache: Channel | None = None,
        materialize: bool = True,
        disable_analyzer_cache: bool = False,
        force_tf_compat_v1: bool = False,
        custom_config: dict[str, Any] | None = None,
        disable_statistics: bool = False,
        stats_options_updater_fn: str | None = None,
    ) -> None:
        if bool(module_file) == bool(preprocessing_fn):
            raise ComponentArgumentError("Transform: give exactly one of module_file and preprocessing_fn")
        if stats_options_updater_fn and module_file:
            raise ComponentArgumentError("Transform: stats_options_updater_fn is looked up in module_file; do not give both")
        if analyzer_cache is not None and disable_analyzer_cache:
            raise ComponentArgumentError("Transform: analyzer_cache was given but disable_analyzer_cache=True")
        omitted = {"transformed_examples"} if not materialize else set()
        omitted |= {"updated_analyzer_cache"} if disable_analyzer_cache else set()
        omitted |= set(_STATS_OUTPUTS) if disable_statistics else set()
        super().__init__(
            omit_outputs=omitted,
            **given(
                examples=examples,
                schema=schema,
                analyzer_cache=analyzer_cache,
                module_file=module_file,
                preprocessing_fn=preprocessing_fn,
                stats_options_updater_fn=stats_options_updater_fn,
                splits_config=proto_argument(splits_config, transform_pb2.SplitsConfig, "splits_config", "Transform"),
                force_tf_compat_v1=force_tf_compat_v1 or None,
                custom_config=custom_config,
                disable_statistics=disable_statistics or None,
            ),
        )

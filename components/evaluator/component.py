"""The Evaluator component, with TFX's constructor.

``eval_config`` may be a ``tfma.EvalConfig``, or, so that a pipeline file need not import
TensorFlow Model Analysis, the same config as a dict (its JSON form) or as a text-format
string. It is stored as a string parameter and parsed (with errors naming the field) when the
node runs.
"""

from __future__ import annotations

import json
from typing import Any

from google.protobuf.message import Message
from pipelinekit.components.util.arguments import given
from pipelinekit.components.util.errors import ComponentArgumentError
from pipelinekit.components.util.proto_utils import proto_to_json

from pipelinekit.dsl.component import Component
from pipelinekit.dsl.node import Channel
from pipelinekit.dsl.spec import InputSpec, OutputSpec, ParameterSpec
from pipelinekit.types.annotations import ModuleFile
from pipelinekit.types.standard import Examples, Model, ModelBlessing, ModelEvaluation, Schema

__all__ = ["Evaluator", "eval_config_argument"]

EVAL_CONFIG_PROTO = "tensorflow_model_analysis.EvalConfig"


def eval_config_argument(value: Any) -> str | None:
    """The stored form of ``eval_config``: JSON for a proto or dict, a text-format string as given."""
    if value is None:
        return None
    if isinstance(value, Message):
        if value.DESCRIPTOR.full_name != EVAL_CONFIG_PROTO:
            raise ComponentArgumentError(
                f"Evaluator(eval_config=...) takes a tfma.EvalConfig, a dict or a text-format string, "
                f"got a {value.DESCRIPTOR.full_name}"
            )
        return proto_to_json(value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, str) and value.strip():
        return value
    raise ComponentArgumentError(
        f"Evaluator(eval_config=...) takes a tfma.EvalConfig, a dict or a text-format string, got {type(value).__name__} "
        f"{value!r}"
    )


class Evaluator(Component):
    """Evaluates ``model`` (against ``baseline_model`` if given) on ``examples`` with TFMA.

    Outputs ``evaluation`` (readable with ``tfma.load_eval_result``) and ``blessing``, always
    written: ``BLESSED`` or ``NOT_BLESSED``, with TFX's custom properties and a ``reason``.
    """

    EXECUTOR = "pipelinekit.components.evaluator.executor:run_evaluator"
    LIBRARIES = ("tensorflow", "tensorflow-model-analysis", "tfx-bsl", "apache-beam")

    examples = InputSpec(Examples)
    model = InputSpec(Model, optional=True)
    baseline_model = InputSpec(Model, optional=True)
    schema = InputSpec(Schema, optional=True)
    evaluation = OutputSpec(ModelEvaluation)
    blessing = OutputSpec(ModelBlessing)
    eval_config = ParameterSpec(str, None)
    fairness_indicator_thresholds = ParameterSpec(list, None)
    example_splits = ParameterSpec(list, None)
    module_file = ParameterSpec(ModuleFile, None)
    module_path = ParameterSpec(str, None)

    def __init__(
        self,
        examples: Channel,
        model: Channel | None = None,
        baseline_model: Channel | None = None,
        feature_slicing_spec: Any = None,
        fairness_indicator_thresholds: list[float] | None = None,
        example_splits: list[str] | None = None,
        eval_config: Any = None,
        schema: Channel | None = None,
        module_file: str | None = None,
        module_path: str | None = None,
    ) -> None:
        if module_file and module_path:
            raise ComponentArgumentError("Evaluator: give module_file= or module_path=, not both")
        if feature_slicing_spec is not None:
            raise ComponentArgumentError(
                "Evaluator: feature_slicing_spec= is deprecated (it served Estimator EvalSavedModels, dropped in "
                "TFX 1.16); put the slices in eval_config.slicing_specs, e.g. {'feature_keys': ['island']}"
            )
        if eval_config is None:
            raise ComponentArgumentError(
                "Evaluator: eval_config= is required (the feature_slicing_spec-only path evaluated Estimator "
                "EvalSavedModels, which TFX 1.16 dropped); e.g. eval_config={'model_specs': [{'label_key': 'species'}], ...}"
            )
        super().__init__(
            **given(
                examples=examples,
                model=model,
                baseline_model=baseline_model,
                schema=schema,
                eval_config=eval_config_argument(eval_config),
                fairness_indicator_thresholds=fairness_indicator_thresholds,
                example_splits=example_splits,
                module_file=module_file,
                module_path=module_path,
            )
        )

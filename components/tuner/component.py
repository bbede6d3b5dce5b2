"""The Tuner component, with TFX's constructor, and ``TunerFnResult`` (what ``tuner_fn`` returns)."""

from __future__ import annotations

from typing import Any, NamedTuple

from pipelinekit.components.trainer.component import check_user_function
from pipelinekit.components.util.arguments import given, proto_argument

from pipelinekit.dsl.component import Component
from pipelinekit.dsl.node import Channel
from pipelinekit.dsl.spec import InputSpec, OutputSpec, ParameterSpec
from pipelinekit.proto import trainer_pb2, tuner_pb2
from pipelinekit.types.annotations import ModuleFile
from pipelinekit.types.standard import Examples, HyperParameters, Model, Schema, TransformGraph, TunerResults

__all__ = ["Tuner", "TunerFnResult"]


class TunerFnResult(NamedTuple):
    """``tuner``: a keras_tuner tuner; ``fit_kwargs``: the keyword arguments of ``tuner.search``."""

    tuner: Any
    fit_kwargs: dict[str, Any]


class Tuner(Component):
    """Runs the keras-tuner search that ``tuner_fn(fn_args)`` sets up.

    Outputs ``best_hyperparameters`` (``best_hyperparameters.txt``, a HyperParameters config)
    and ``tuner_results`` (``tuner_results.json``). With ``TuneArgs(num_parallel_trials=N)``,
    N worker processes run trials at once under keras-tuner's distributed oracle. ``examples``
    may give several artifacts, gathered into ``fn_args.train_files``/``eval_files`` as in TFX.
    """

    EXECUTOR = "pipelinekit.components.tuner.executor:run_tuner"
    LIBRARIES = ("tensorflow", "keras", "keras-tuner", "tfx-bsl")

    examples = InputSpec(Examples, multiple=True)
    schema = InputSpec(Schema, optional=True)
    transform_graph = InputSpec(TransformGraph, optional=True)
    base_model = InputSpec(Model, optional=True)
    best_hyperparameters = OutputSpec(HyperParameters)
    tuner_results = OutputSpec(TunerResults)
    module_file = ParameterSpec(ModuleFile, None)
    tuner_fn = ParameterSpec(str, None)
    train_args = ParameterSpec(str, None)
    eval_args = ParameterSpec(str, None)
    tune_args = ParameterSpec(str, None)
    custom_config = ParameterSpec(dict, None)

    def __init__(
        self,
        examples: Channel,
        schema: Channel | None = None,
        transform_graph: Channel | None = None,
        base_model: Channel | None = None,
        module_file: str | None = None,
        tuner_fn: str | None = None,
        train_args: Any = None,
        eval_args: Any = None,
        tune_args: Any = None,
        custom_config: dict[str, Any] | None = None,
    ) -> None:
        check_user_function("Tuner", "tuner_fn", module_file, tuner_fn)
        super().__init__(
            **given(
                examples=examples,
                schema=schema,
                transform_graph=transform_graph,
                base_model=base_model,
                module_file=module_file,
                tuner_fn=tuner_fn,
                train_args=proto_argument(train_args, trainer_pb2.TrainArgs, "train_args", "Tuner"),
                eval_args=proto_argument(eval_args, trainer_pb2.EvalArgs, "eval_args", "Tuner"),
                tune_args=proto_argument(tune_args, tuner_pb2.TuneArgs, "tune_args", "Tuner"),
                custom_config=custom_config,
            )
        )

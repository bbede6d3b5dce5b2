"""The Trainer component, with TFX's constructor: a user ``run_fn`` writes a SavedModel."""

from __future__ import annotations

from typing import Any

from pipelinekit.components.util.arguments import given, proto_argument
from pipelinekit.components.util.errors import ComponentArgumentError

from pipelinekit.dsl.component import Component
from pipelinekit.dsl.node import Channel
from pipelinekit.dsl.spec import InputSpec, OutputSpec, ParameterSpec
from pipelinekit.proto import trainer_pb2
from pipelinekit.types.annotations import ModuleFile
from pipelinekit.types.standard import Examples, HyperParameters, Model, ModelRun, Schema, TransformGraph

__all__ = ["Trainer", "check_user_function"]


def check_user_function(component: str, fn_name: str, module_file: str | None, dotted: str | None) -> None:
    """Exactly one of ``module_file`` and the dotted ``fn_name`` path, as TFX requires."""
    if bool(module_file) == bool(dotted):
        raise ComponentArgumentError(
            f"{component}: give exactly one of module_file= (a file defining {fn_name}) and {fn_name}= "
            f"(a dotted path 'package.module.{fn_name}'); got {'both' if module_file else 'neither'}"
        )


class Trainer(Component):
    """Calls ``run_fn(fn_args)`` from ``module_file`` (or the dotted ``run_fn``) to train a model.

    Outputs ``model`` (the SavedModel in ``Format-Serving/``) and ``model_run`` (logs for
    TensorBoard, ``fn_args.model_run_dir``). ``examples`` may give several artifacts (a
    Resolver's span window): ``fn_args.train_files``/``eval_files`` list them all, as in TFX.
    """

    EXECUTOR = "pipelinekit.components.trainer.executor:run_trainer"
    LIBRARIES = ("tensorflow", "keras", "tfx-bsl", "tensorflow-transform")

    examples = InputSpec(Examples, multiple=True)
    transform_graph = InputSpec(TransformGraph, optional=True)
    schema = InputSpec(Schema, optional=True)
    base_model = InputSpec(Model, optional=True)
    hyperparameters = InputSpec(HyperParameters, optional=True)
    model = OutputSpec(Model)
    model_run = OutputSpec(ModelRun)
    module_file = ParameterSpec(ModuleFile, None)
    run_fn = ParameterSpec(str, None)
    train_args = ParameterSpec(str, None)
    eval_args = ParameterSpec(str, None)
    custom_config = ParameterSpec(dict, None)

    def __init__(
        self,
        examples: Channel | None = None,
        transformed_examples: Channel | None = None,
        transform_graph: Channel | None = None,
        schema: Channel | None = None,
        base_model: Channel | None = None,
        hyperparameters: Channel | None = None,
        module_file: str | None = None,
        run_fn: str | None = None,
        train_args: Any = None,
        eval_args: Any = None,
        custom_config: dict[str, Any] | None = None,
    ) -> None:
        if (examples is None) == (transformed_examples is None):
            raise ComponentArgumentError(
                "Trainer: give exactly one of examples= and transformed_examples= (a deprecated alias of examples)"
            )
        if transformed_examples is not None and transform_graph is None:
            raise ComponentArgumentError("Trainer: transformed_examples= needs transform_graph= as well")
        check_user_function("Trainer", "run_fn", module_file, run_fn)
        super().__init__(
            **given(
                examples=examples if examples is not None else transformed_examples,
                transform_graph=transform_graph,
                schema=schema,
                base_model=base_model,
                hyperparameters=hyperparameters,
                module_file=module_file,
                run_fn=run_fn,
                train_args=proto_argument(train_args, trainer_pb2.TrainArgs, "train_args", "Trainer"),
                eval_args=proto_argument(eval_args, trainer_pb2.EvalArgs, "eval_args", "Trainer"),
                custom_config=custom_config,
            )
        )

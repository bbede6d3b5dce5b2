"""The Trainer's executor: build FnArgs, call ``run_fn``, check that a SavedModel was written."""

from __future__ import annotations

import os
from typing import Any

from pipelinekit.components.trainer.fn_args import get_common_fn_args
from pipelinekit.components.trainer.user_code import UserFunction, UserFunctionError
from pipelinekit.components.util.arguments import parse_proto
from pipelinekit.components.util.keras3 import use_keras3

from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.proto import trainer_pb2
from pipelinekit.types.standard import Examples, HyperParameters, Model, ModelRun, Schema, TransformGraph

__all__ = ["run_trainer"]


def run_trainer(
    context: ExecutionContext,
    examples: list[Examples],
    model: Model,
    model_run: ModelRun,
    transform_graph: TransformGraph | None = None,
    schema: Schema | None = None,
    base_model: Model | None = None,
    hyperparameters: HyperParameters | None = None,
    module_file: str | None = None,
    run_fn: str | None = None,
    train_args: str | None = None,
    eval_args: str | None = None,
    custom_config: dict[str, Any] | None = None,
) -> None:
    """Train: ``run_fn(fn_args)`` must save a SavedModel under ``fn_args.serving_model_dir``."""
    use_keras3()
    user_fn = UserFunction("run_fn", module_file, run_fn)
    fn_args = get_common_fn_args(
        examples,
        parse_proto(train_args, trainer_pb2.TrainArgs),
        parse_proto(eval_args, trainer_pb2.EvalArgs),
        schema=schema,
        transform_graph=transform_graph,
        base_model=base_model,
        hyperparameters=hyperparameters,
        custom_config=custom_config,
    )
    fn_args.schema_file = fn_args.schema_path
    fn_args.transform_output = fn_args.transform_graph_path
    fn_args.serving_model_dir = model.serving_model_dir
    fn_args.eval_model_dir = os.path.join(model.uri, "Format-TFMA")
    fn_args.model_run_dir = model_run.uri
    context.logger.info("Training with %s", user_fn.where)
    user_fn(fn_args)
    if not os.path.isfile(os.path.join(model.serving_model_dir, "saved_model.pb")):
        raise UserFunctionError(
            f"{user_fn.where} returned without saving a model: {fn_args.serving_model_dir} holds no saved_model.pb. "
            "Save it with tf.saved_model.save(model, fn_args.serving_model_dir, signatures=...)"
        )

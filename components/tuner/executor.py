"""The Tuner's executor: run the keras-tuner search from ``tuner_fn``, serially or with N worker
processes that share one oracle, then write the best hyperparameters and the trial table."""

from __future__ import annotations

import json
import os
from typing import Any

from pipelinekit.components.trainer.fn_args import FnArgs, get_common_fn_args
from pipelinekit.components.trainer.user_code import UserFunction, UserFunctionError
from pipelinekit.components.tuner.component import TunerFnResult
from pipelinekit.components.tuner.parallel import run_parallel_search
from pipelinekit.components.util.arguments import parse_proto
from pipelinekit.components.util.keras3 import use_keras3

from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.proto import trainer_pb2, tuner_pb2
from pipelinekit.types.standard import Examples, HyperParameters, Model, Schema, TransformGraph, TunerResults

__all__ = ["run_tuner", "tuner_fn_args", "call_tuner_fn"]

BEST_HYPERPARAMETERS_FILE = "best_hyperparameters.txt"
TUNER_RESULTS_FILE = "tuner_results.json"


def run_tuner(
    context: ExecutionContext,
    examples: list[Examples],
    best_hyperparameters: HyperParameters,
    tuner_results: TunerResults,
    schema: Schema | None = None,
    transform_graph: TransformGraph | None = None,
    base_model: Model | None = None,
    module_file: str | None = None,
    tuner_fn: str | None = None,
    train_args: str | None = None,
    eval_args: str | None = None,
    tune_args: str | None = None,
    custom_config: dict[str, Any] | None = None,
) -> None:
    """Search, then write ``best_hyperparameters.txt`` and ``tuner_results.json``."""
    use_keras3()
    working_dir = os.path.join(context.tmp_dir, "tuner")
    inputs = {"examples": examples, "schema": schema, "transform_graph": transform_graph, "base_model": base_model}
    settings = {
        "module_file": module_file,
        "tuner_fn": tuner_fn,
        "train_args": train_args,
        "eval_args": eval_args,
        "custom_config": custom_config,
        "working_dir": working_dir,
    }
    user_fn = UserFunction("tuner_fn", module_file, tuner_fn)
    result = call_tuner_fn(user_fn, tuner_fn_args(inputs, settings))
    result.tuner.search_space_summary()
    workers = parse_proto(tune_args, tuner_pb2.TuneArgs).num_parallel_trials
    if workers > 1:
        context.logger.info("Tuning with %d parallel trial processes", workers)
        run_parallel_search(result.tuner, workers, inputs, settings)
    else:
        _search(user_fn, result)
    result.tuner.results_summary()
    _write_results(result.tuner, best_hyperparameters, tuner_results, user_fn.where)


def tuner_fn_args(inputs: dict[str, Any], settings: dict[str, Any]) -> FnArgs:
    """The FnArgs a ``tuner_fn`` gets (TFX: no serving_model_dir, schema_file or transform_output)."""
    return get_common_fn_args(
        inputs["examples"],
        parse_proto(settings["train_args"], trainer_pb2.TrainArgs),
        parse_proto(settings["eval_args"], trainer_pb2.EvalArgs),
        schema=inputs["schema"],
        transform_graph=inputs["transform_graph"],
        base_model=inputs["base_model"],
        custom_config=settings["custom_config"],
        working_dir=settings["working_dir"],
    )


def call_tuner_fn(user_fn: UserFunction, fn_args: FnArgs) -> TunerFnResult:
    """``tuner_fn(fn_args)``, checked to be a TunerFnResult (or a (tuner, fit_kwargs) pair)."""
    result = user_fn(fn_args)
    if not isinstance(result, tuple) or len(result) != 2 or not hasattr(result[0], "search"):
        raise UserFunctionError(
            f"{user_fn.where} returned {type(result).__name__}; return TunerFnResult(tuner=<a keras_tuner tuner>, "
            "fit_kwargs={...})"
        )
    return TunerFnResult(*result)


def _search(user_fn: UserFunction, result: TunerFnResult) -> None:
    try:
        result.tuner.search(**result.fit_kwargs)
    except Exception as error:
        raise UserFunctionError(f"the search set up by {user_fn.where} failed: {type(error).__name__}: {error}") from error


def _write_results(tuner: Any, best: HyperParameters, results: TunerResults, where: str) -> None:
    best_trials = [t for t in tuner.oracle.get_best_trials(tuner.oracle.max_trials) if t.status == "COMPLETED"]
    if not best_trials:
        raise UserFunctionError(f"the search set up by {where} completed no trial; check the objective and fit_kwargs")
    with open(os.path.join(best.uri, BEST_HYPERPARAMETERS_FILE), "w") as handle:
        json.dump(tuner.get_best_hyperparameters()[0].get_config(), handle)
    rows = [{"trial_id": t.trial_id, "score": t.score, **t.hyperparameters.values} for t in best_trials]
    with open(os.path.join(results.uri, TUNER_RESULTS_FILE), "w") as handle:
        json.dump(rows, handle)

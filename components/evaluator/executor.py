"""The Evaluator's executor: TFMA's ExtractEvaluateAndWriteResults on Beam (its default evaluators
and writers, plus the statistics of the candidate's predictions), then the blessing.

The blessing is always written. With thresholds, TFMA's validation result decides and each
failed check becomes a readable reason; without thresholds the model is blessed with a
warning (TFX writes no verdict then, which silently blocks the Pusher).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from pipelinekit.components.evaluator.eval_config import (
    EvalConfigError,
    add_fairness_thresholds,
    check_feature_names,
    example_feature_names,
    parse_eval_config,
    signature_output_names,
)
from pipelinekit.components.evaluator.prediction_statistics import (
    prediction_statistics_evaluator,
    prediction_statistics_writer,
)
from pipelinekit.components.evaluator.summary import overall_metrics
from pipelinekit.components.evaluator.verdict import bless
from pipelinekit.components.util.keras3 import use_keras3
from pipelinekit.components.util.module_loader import load_module_file

from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.types.standard import Examples, Model, ModelBlessing, ModelEvaluation, Schema

__all__ = ["run_evaluator"]


def run_evaluator(
    context: ExecutionContext,
    examples: Examples,
    evaluation: ModelEvaluation,
    blessing: ModelBlessing,
    model: Model | None = None,
    baseline_model: Model | None = None,
    schema: Schema | None = None,
    eval_config: str | None = None,
    fairness_indicator_thresholds: list[float] | None = None,
    example_splits: list[str] | None = None,
    module_file: str | None = None,
    module_path: str | None = None,
) -> None:
    """Evaluate with TFMA into ``evaluation`` and write the verdict into ``blessing``."""
    use_keras3()
    import tensorflow_model_analysis as tfma

    if not eval_config:
        raise EvalConfigError("the Evaluator needs eval_config")
    config = parse_eval_config(eval_config)
    add_fairness_thresholds(config, fairness_indicator_thresholds)
    config = tfma.utils.update_eval_config_with_defaults(config, has_baseline=baseline_model is not None, rubber_stamp=True)
    tfma.utils.verify_eval_config(config)
    splits = list(example_splits or ["eval"])
    tfma_schema = _read_schema(schema)
    _check_config(config, examples, splits, model, baseline_model, tfma_schema)
    models = _shared_models(config, model, baseline_model, module_file, module_path)
    shared = models[0] if len(models) == 1 else models
    with context.make_beam_pipeline() as pipeline:
        data, adapter_config = _read_examples(pipeline, examples, splits, tfma_schema)
        _ = data | "ExtractEvaluateAndWriteResults" >> tfma.ExtractEvaluateAndWriteResults(
            eval_shared_model=shared,
            eval_config=config,
            extractors=_custom_extractors(module_file, module_path, models, config, adapter_config),
            evaluators=[
                *tfma.default_evaluators(eval_shared_model=shared, eval_config=config),
                prediction_statistics_evaluator(config, model),
            ],
            writers=[*tfma.default_writers(evaluation.uri, shared, config), prediction_statistics_writer(evaluation.uri)],
            output_path=evaluation.uri,
            tensor_adapter_config=adapter_config,
        )
    has_thresholds = bool(tfma.metrics.metric_thresholds_from_metrics_specs(config.metrics_specs, eval_config=config))
    evaluation.set_custom_property("metrics", overall_metrics(evaluation.uri))
    bless(blessing, evaluation.uri, has_thresholds, model, baseline_model, context.logger)


def _check_config(
    config: Any, examples: Examples, splits: list[str], model: Model | None, baseline: Model | None, schema: Any
) -> None:
    pattern = os.path.join(examples.split_uri(splits[0]), "*")
    available = example_feature_names(pattern, schema)
    for index, spec in enumerate(config.model_specs):
        artifact = baseline if spec.is_baseline else model
        if artifact is None:
            if not spec.prediction_key:
                raise EvalConfigError(
                    f"eval_config.model_specs[{index}] has no prediction_key and the Evaluator got no model; "
                    "wire model= or set prediction_key for a model-agnostic evaluation"
                )
            continue
        wanted = [spec.signature_name or "serving_default", *spec.preprocessing_function_names]
        _check_signatures(artifact, wanted, index)
        available |= signature_output_names(artifact.serving_model_dir, list(spec.preprocessing_function_names))
    check_feature_names(config, available, f"the examples in {pattern} or the model's preprocessing outputs")


def _check_signatures(model: Model, wanted: list[str], index: int) -> None:
    from tensorflow.core.protobuf import saved_model_pb2

    path = os.path.join(model.serving_model_dir, "saved_model.pb")
    if not os.path.isfile(path):
        raise EvalConfigError(f"model at {model.uri} has no Format-Serving/saved_model.pb to evaluate")
    with open(path, "rb") as handle:
        saved_model = saved_model_pb2.SavedModel.FromString(handle.read())
    present = {name for graph in saved_model.meta_graphs for name in graph.signature_def}
    for name in wanted:
        if name not in present:
            raise EvalConfigError(
                f"eval_config.model_specs[{index}] uses signature {name!r}, which the model at {model.serving_model_dir} "
                f"lacks (its signatures: {', '.join(sorted(present))})"
            )


def _shared_models(
    config: Any, model: Model | None, baseline: Model | None, module_file: str | None, module_path: str | None
) -> list[Any]:
    import tensorflow_model_analysis as tfma

    make = _user_hook("custom_eval_shared_model", module_file, module_path) or tfma.default_eval_shared_model
    models = []
    for spec in config.model_specs:
        artifact = baseline if spec.is_baseline else model
        if artifact is not None:
            models.append(make(eval_saved_model_path=artifact.serving_model_dir, model_name=spec.name, eval_config=config))
    return models


def _custom_extractors(
    module_file: str | None, module_path: str | None, models: list[Any], config: Any, adapter_config: Any
) -> Any:
    hook = _user_hook("custom_extractors", module_file, module_path)
    if hook is None:
        return None
    shared = models[0] if len(models) == 1 else models
    return hook(eval_shared_model=shared, eval_config=config, tensor_adapter_config=adapter_config)


def _user_hook(name: str, module_file: str | None, module_path: str | None) -> Any:
    """An optional hook from the Evaluator's module (a file, or an importable module name)."""
    if module_file:
        return getattr(load_module_file(module_file), name, None)
    if module_path:
        return getattr(importlib.import_module(module_path), name, None)
    return None


def _read_schema(schema: Schema | None) -> Any:
    from pipelinekit.components.trainer.fn_args import read_schema

    return read_schema(schema)


def _read_examples(pipeline: Any, examples: Examples, splits: list[str], schema: Any) -> tuple[Any, Any]:
    """The splits as one PCollection of Arrow batches, and the tensor adapter config when a schema is known."""
    import apache_beam as beam
    import tensorflow_model_analysis as tfma
    from tfx_bsl.public import tfxio

    reads = []
    source = None
    for split in splits:
        pattern = os.path.join(examples.split_uri(split), "*")
        source = tfxio.TFExampleRecord(
            pattern, schema=schema, raw_record_column_name=tfma.ARROW_INPUT_COLUMN, telemetry_descriptors=["Evaluator"]
        )
        reads.append(pipeline | f"Read[{split}]" >> source.BeamSource())
    adapter_config = None
    if schema is not None and source is not None:
        adapter_config = tfxio.TensorAdapterConfig(source.ArrowSchema(), source.TensorRepresentations())
    return reads | "FlattenSplits" >> beam.Flatten(), adapter_config

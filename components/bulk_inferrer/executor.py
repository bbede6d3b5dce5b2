"""The BulkInferrer's executor: a Beam pipeline of read, RunInference, write."""

from __future__ import annotations

import os
from typing import Any

from pipelinekit.components.util.arguments import parse_proto
from pipelinekit.components.util.blessing import refusal
from pipelinekit.components.util.keras3 import use_keras3

from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.errors import RunError
from pipelinekit.proto import bulk_inferrer_pb2
from pipelinekit.types.standard import Examples, InferenceResult, Model, ModelBlessing

__all__ = ["run_bulk_inferrer"]


def run_bulk_inferrer(
    context: ExecutionContext,
    examples: Examples,
    model: Model | None = None,
    model_blessing: ModelBlessing | None = None,
    inference_result: InferenceResult | None = None,
    output_examples: Examples | None = None,
    data_spec: str | None = None,
    model_spec: str | None = None,
    output_example_spec: str | None = None,
) -> None:
    """Write ``prediction_logs-*.gz`` or ``Split-<s>/examples-*.gz``; nothing for an unblessed model."""
    output = inference_result if inference_result is not None else output_examples
    assert output is not None
    if model is None:
        raise RunError("BulkInferrer needs a model: wire model= (e.g. trainer.outputs['model'])")
    refused = refusal("model_blessing", model_blessing) if model_blessing is not None else None
    if refused:
        reason = f"{refused}; no inference was run"
        output.set_custom_property("reason", reason)
        context.logger.warning("BulkInferrer: %s", reason)
        return
    use_keras3()
    splits = _splits(examples, parse_proto(data_spec, bulk_inferrer_pb2.DataSpec))
    spec = parse_proto(model_spec, bulk_inferrer_pb2.ModelSpec)
    handler = _handler(model, spec)
    try:
        with context.make_beam_pipeline() as pipeline:
            if inference_result is not None:
                _write_logs(pipeline, examples, splits, handler, inference_result.uri)
            else:
                assert output_examples is not None
                example_spec = parse_proto(output_example_spec, bulk_inferrer_pb2.OutputExampleSpec)
                _write_examples(pipeline, examples, splits, handler, example_spec, output_examples)
    finally:
        handler.release()
    if output_examples is not None:
        output_examples.splits = sorted(splits)


def _splits(examples: Examples, data_spec: Any) -> list[str]:
    splits = list(data_spec.example_splits) or examples.splits
    if not splits:
        raise RunError(f"Examples {examples.uri} record no split_names; list the splits in data_spec.example_splits")
    for split in splits:
        if not os.path.isdir(examples.split_uri(split)):
            raise RunError(
                f"data_spec.example_splits names {split!r}, but Examples {examples.uri} have no Split-{split}/ "
                f"(their splits: {', '.join(examples.splits) or 'none'})"
            )
    return splits


def _handler(model: Model, spec: Any) -> Any:
    from pipelinekit.components.bulk_inferrer.inference import LoadedModel, SavedModelHandler

    signatures = list(spec.model_signature_name) or ["serving_default"]
    tags = list(spec.tag) or ["serve"]
    loaded = LoadedModel(model.serving_model_dir, tags, signatures)  # fail here, naming the field, not inside Beam
    return SavedModelHandler(model.serving_model_dir, tags, signatures, loaded)


def _inferred(pipeline: Any, examples: Examples, split: str, handler: Any) -> Any:
    import apache_beam as beam
    from apache_beam.ml.inference.base import RunInference

    pattern = os.path.join(examples.split_uri(split), "*")
    return pipeline | f"Read[{split}]" >> beam.io.ReadFromTFRecord(pattern) | f"RunInference[{split}]" >> RunInference(handler)


def _write_logs(pipeline: Any, examples: Examples, splits: list[str], handler: Any, uri: str) -> None:
    import apache_beam as beam
    from tensorflow_serving.apis import prediction_log_pb2

    logs = [_inferred(pipeline, examples, split, handler) for split in splits]
    _ = (
        logs
        | "Flatten" >> beam.Flatten()
        | "WriteLogs"
        >> beam.io.WriteToTFRecord(
            os.path.join(uri, "prediction_logs"),
            file_name_suffix=".gz",
            coder=beam.coders.ProtoCoder(prediction_log_pb2.PredictionLog),
        )
    )


def _write_examples(pipeline: Any, examples: Examples, splits: list[str], handler: Any, spec: Any, output: Examples) -> None:
    import apache_beam as beam
    from pipelinekit.components.bulk_inferrer.output_examples import ExampleWriter

    writer = ExampleWriter(spec)
    for split in splits:
        _ = (
            _inferred(pipeline, examples, split, handler)
            | f"ToExample[{split}]" >> beam.Map(writer)
            | f"Write[{split}]"
            >> beam.io.WriteToTFRecord(os.path.join(output.split_uri(split), "examples"), file_name_suffix=".gz")
        )

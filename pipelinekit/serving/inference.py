"""The PredictionService's work, on TF Serving's request and response protos.

Both front ends call this one implementation: gRPC passes the protos through, REST builds
them from JSON (predict alone has an array-level entry point, to skip a TensorProto round trip).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    inference_pb2,
    input_pb2,
    model_pb2,
    predict_pb2,
    regression_pb2,
)

from pipelinekit.serving.errors import InvalidInputError
from pipelinekit.serving.servable import DEFAULT_SIGNATURE, Servable
from pipelinekit.serving.tensor_checks import check_request_tensors
from pipelinekit.serving.tensors import (
    fill_tensor_proto,
    from_tensor_proto,
    stack_examples,
)

__all__ = [
    "CLASSIFY_METHOD",
    "DEFAULT_MAX_TENSOR_BYTES",
    "REGRESS_METHOD",
    "InferenceService",
    "Resolver",
    "Runner",
    "run_direct",
    "with_context",
]

DEFAULT_MAX_TENSOR_BYTES = 256 * 1024 * 1024
CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"

# Finds the servable a request's model_spec names (ModelManager.servable, or one fixed servable for warmup).
Resolver = Callable[[model_pb2.ModelSpec], Servable]
# Runs a signature of a servable: Servable.run itself, or a batcher that groups requests.
Runner = Callable[[Servable, str, Mapping[str, np.ndarray], Sequence[str]], dict[str, np.ndarray]]


def run_direct(
    servable: Servable, signature: str, inputs: Mapping[str, np.ndarray], output_filter: Sequence[str]
) -> dict[str, np.ndarray]:
    """The unbatched Runner: one model call per request."""
    return servable.run(signature, inputs, output_filter)


class InferenceService:
    """Predict, Classify, Regress, MultiInference and GetModelMetadata on the servables ``resolve`` finds.

    ``max_tensor_bytes`` bounds what one Predict's input tensors may decode to; the protos are
    checked against it, and against the signature, before anything is allocated.
    """

    def __init__(
        self, resolve: Resolver, runner: Runner = run_direct, max_tensor_bytes: int = DEFAULT_MAX_TENSOR_BYTES
    ) -> None:
        self._resolve = resolve
        self._run = runner
        self._max_tensor_bytes = max_tensor_bytes

    def resolve(self, spec: model_pb2.ModelSpec) -> Servable:
        """The servable a model_spec names (NOT_FOUND if none)."""
        return self._resolve(spec)

    def predict_for(
        self, servable: Servable, spec: model_pb2.ModelSpec, inputs: Mapping[str, np.ndarray]
    ) -> tuple[dict[str, np.ndarray], model_pb2.ModelSpec]:
        """REST's predict: run ``servable`` (the version whose signature shaped ``inputs``) for a
        request to ``spec``; the outputs and the model_spec of the version that answered."""
        outputs = self._run(servable, spec.signature_name, inputs, ())
        answered = model_pb2.ModelSpec()
        _fill_spec(answered, servable, spec.signature_name)
        return outputs, answered

    def predict(self, request: predict_pb2.PredictRequest) -> predict_pb2.PredictResponse:
        """Predict: the model, signature, dtypes and sizes are checked before any tensor is built."""
        servable = self._resolve(request.model_spec)
        signature_name = request.model_spec.signature_name
        signature = servable.signature_def(signature_name)
        where = servable.describe(signature_name or DEFAULT_SIGNATURE)
        check_request_tensors(request.inputs, signature, where, self._max_tensor_bytes)
        inputs = {name: from_tensor_proto(proto, name) for name, proto in request.inputs.items()}
        outputs = self._run(servable, signature_name, inputs, list(request.output_filter))
        response = predict_pb2.PredictResponse()
        _fill_spec(response.model_spec, servable, signature_name)
        for name, array in outputs.items():
            fill_tensor_proto(response.outputs[name], array)
        return response

    def classify(
        self, request: classification_pb2.ClassificationRequest
    ) -> classification_pb2.ClassificationResponse:
        servable = self._resolve(request.model_spec)
        response = classification_pb2.ClassificationResponse()
        _fill_spec(response.model_spec, servable, request.model_spec.signature_name)
        response.result.CopyFrom(self._classify(servable, request.model_spec.signature_name, request.input))
        return response

    def regress(self, request: regression_pb2.RegressionRequest) -> regression_pb2.RegressionResponse:
        servable = self._resolve(request.model_spec)
        response = regression_pb2.RegressionResponse()
        _fill_spec(response.model_spec, servable, request.model_spec.signature_name)
        response.result.CopyFrom(self._regress(servable, request.model_spec.signature_name, request.input))
        return response

    def multi_inference(
        self, request: inference_pb2.MultiInferenceRequest
    ) -> inference_pb2.MultiInferenceResponse:
        """Several classify/regress tasks on one model version and one input."""
        if not request.tasks:
            raise InvalidInputError("a MultiInferenceRequest needs at least one task")
        names = {task.model_spec.name for task in request.tasks}
        if len(names) != 1:
            raise InvalidInputError(f"all MultiInference tasks must name the same model; got {sorted(names)}")
        servable = self._resolve(request.tasks[0].model_spec)
        response = inference_pb2.MultiInferenceResponse()
        for task in request.tasks:
            result = response.results.add()
            _fill_spec(result.model_spec, servable, task.model_spec.signature_name)
            if task.method_name == CLASSIFY_METHOD:
                result.classification_result.CopyFrom(
                    self._classify(servable, task.model_spec.signature_name, request.input)
                )
            elif task.method_name == REGRESS_METHOD:
                result.regression_result.CopyFrom(
                    self._regress(servable, task.model_spec.signature_name, request.input)
                )
            else:
                raise InvalidInputError(
                    f"{servable.describe(task.model_spec.signature_name)}: MultiInference method_name must "
                    f"be {CLASSIFY_METHOD!r} or {REGRESS_METHOD!r}, got {task.method_name!r}"
                )
        return response

    def metadata(
        self, request: get_model_metadata_pb2.GetModelMetadataRequest
    ) -> get_model_metadata_pb2.GetModelMetadataResponse:
        """The SignatureDefs of the requested version, as TF Serving answers GetModelMetadata."""
        fields = list(request.metadata_field)
        if fields != ["signature_def"]:
            raise InvalidInputError(
                f"GetModelMetadata for model {request.model_spec.name!r} supports metadata_field "
                f"['signature_def'] only, got {fields}"
            )
        servable = self._resolve(request.model_spec)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        _fill_spec(response.model_spec, servable, None)
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        for key, signature in servable.signature_defs.items():
            signature_map.signature_def[key].CopyFrom(signature)
        response.metadata["signature_def"].Pack(signature_map)
        return response

    def _classify(
        self, servable: Servable, signature_name: str, request_input: input_pb2.Input
    ) -> classification_pb2.ClassificationResult:
        signature_name = _checked_signature(servable, signature_name, CLASSIFY_METHOD, ("classes", "scores"))
        outputs = self._run_examples(servable, signature_name, request_input)
        classes, scores = outputs.get("classes"), outputs.get("scores")
        count = len(outputs["classes"] if "classes" in outputs else outputs["scores"])
        result = classification_pb2.ClassificationResult()
        for row in range(count):
            _add_classes(result.classifications.add(), classes, scores, row)
        return result

    def _regress(
        self, servable: Servable, signature_name: str, request_input: input_pb2.Input
    ) -> regression_pb2.RegressionResult:
        signature_name = _checked_signature(servable, signature_name, REGRESS_METHOD, ("outputs",))
        values = self._run_examples(servable, signature_name, request_input)["outputs"]
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim != 1:
            raise InvalidInputError(
                f"{servable.describe(signature_name)}: a regression output must have shape [batch] or "
                f"[batch, 1], got {list(values.shape)}"
            )
        result = regression_pb2.RegressionResult()
        for value in values:
            result.regressions.add().value = float(value)
        return result

    def _run_examples(
        self, servable: Servable, signature_name: str, request_input: input_pb2.Input
    ) -> dict[str, np.ndarray]:
        examples = _input_examples(request_input, servable.describe(signature_name))
        return self._run(servable, signature_name, {"inputs": stack_examples(examples)}, ())


def _fill_spec(spec: model_pb2.ModelSpec, servable: Servable, signature_name: str | None) -> None:
    """The response's model_spec: the model, the version used and the signature run (none for metadata)."""
    spec.name = servable.name
    spec.version.value = servable.version
    spec.signature_name = "" if signature_name is None else signature_name or DEFAULT_SIGNATURE


def _checked_signature(servable: Servable, signature_name: str, method: str, outputs: tuple[str, ...]) -> str:
    signature_name = signature_name or DEFAULT_SIGNATURE
    signature = servable.signature_def(signature_name, not_found_code="INVALID_ARGUMENT")
    where = servable.describe(signature_name)
    if signature.method_name != method:
        raise InvalidInputError(
            f"{where}: expected a signature with method_name {method!r}, got {signature.method_name!r}"
        )
    if list(signature.inputs) != ["inputs"] or signature.inputs["inputs"].dtype != tf.string.as_datatype_enum:
        raise InvalidInputError(f"{where}: a {method} signature must have one string input named 'inputs'")
    if not set(outputs) & set(signature.outputs):
        raise InvalidInputError(
            f"{where}: a {method} signature must have an output named one of {list(outputs)}"
        )
    return signature_name


def _input_examples(request_input: input_pb2.Input, where: str) -> list[tf.train.Example]:
    kind = request_input.WhichOneof("kind")
    if kind == "example_list":
        examples = list(request_input.example_list.examples)
    elif kind == "example_list_with_context":
        context = request_input.example_list_with_context.context
        examples = [
            with_context(example, context) for example in request_input.example_list_with_context.examples
        ]
    else:
        examples = []
    if not examples:
        raise InvalidInputError(
            f"{where}: the request input holds no examples; fill input.example_list.examples"
        )
    return examples


def with_context(example: tf.train.Example, context: tf.train.Example) -> tf.train.Example:
    merged = tf.train.Example()
    merged.CopyFrom(context)
    merged.MergeFrom(example)
    return merged


def _add_classes(
    classifications: classification_pb2.Classifications,
    classes: np.ndarray | None,
    scores: np.ndarray | None,
    row: int,
) -> None:
    labels = (
        [label.decode("utf-8", "replace") for label in np.ravel(classes[row])] if classes is not None else []
    )
    values = [float(score) for score in np.ravel(scores[row])] if scores is not None else []
    for column in range(max(len(labels), len(values))):
        entry = classifications.classes.add()
        if labels:
            entry.label = labels[column]
        if values:
            entry.score = values[column]

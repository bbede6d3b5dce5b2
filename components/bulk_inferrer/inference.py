"""A Beam RunInference model handler for TF2 SavedModels (Keras 3 ones included) that turns
serialized tf.Examples into TF Serving PredictionLogs.

tfx-bsl's RunInference loads SavedModels into a TF1 session, where a Keras 3 model's
variables are not found ("Could not find variable dense/kernel"); this is why TFX's
BulkInferrer fails on Keras 3. Here the model is loaded with ``tf.saved_model.load`` and its
signatures are called as TF2 functions; the logs have the layout tfx-bsl writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from apache_beam.ml.inference.base import ModelHandler

from pipelinekit.errors import RunError

__all__ = ["SavedModelHandler", "LoadedModel", "InferenceSetupError"]

CLASSIFY = "tensorflow/serving/classify"
REGRESS = "tensorflow/serving/regress"

_LOADED_HERE: dict[str, LoadedModel] = {}
"""Models this process loaded already, by the key of the handler that holds them: a handler
pickled into a Beam pipeline and unpickled in this process finds its model here; unpickled in
another process (a cluster's worker) it finds nothing and loads the model itself."""


class InferenceSetupError(RunError):
    """The model cannot run as model_spec asks (missing signature, one that does not take tf.Examples)."""


class LoadedModel:
    """A loaded SavedModel with the signatures to run and their SignatureDefs."""

    def __init__(self, path: str, tags: list[str], signature_names: list[str]) -> None:
        import tensorflow as tf
        from pipelinekit.components.infra_validator.requests import signature_defs

        self.model = tf.saved_model.load(path, tags=tags)
        defs = signature_defs(path)
        missing = [n for n in signature_names if n not in self.model.signatures or n not in defs]
        if missing:
            raise InferenceSetupError(
                f"model_spec.model_signature_name names {missing}, which the model at {path} lacks "
                f"(its signatures: {', '.join(sorted(defs))})"
            )
        if len(signature_names) > 1 and any(defs[n].method_name not in (CLASSIFY, REGRESS) for n in signature_names):
            raise InferenceSetupError(
                "several model_signature_name entries need classify or regress signatures (a multi-inference)"
            )
        self.signatures = [(n, self.model.signatures[n], defs[n]) for n in signature_names]
        for name, _, signature in self.signatures:
            if len(signature.inputs) != 1:
                raise InferenceSetupError(f"signature {name!r} of {path} must take one input (serialized tf.Examples)")
            if signature.method_name == CLASSIFY and not {"classes", "scores"} & set(signature.outputs):
                raise InferenceSetupError(
                    f"classify signature {name!r} of {path} returns {sorted(signature.outputs)}; it must return classes and/or scores"
                )

    def run(self, batch: Sequence[bytes]) -> list[Any]:
        """One PredictionLog per serialized example."""
        import tensorflow as tf

        results = []
        for name, function, signature in self.signatures:
            input_name = next(iter(signature.inputs))
            outputs = function(**{input_name: tf.constant(list(batch), dtype=tf.string)})
            results.append((name, signature, input_name, {k: v.numpy() for k, v in outputs.items()}))
        return [_log(index, record, results) for index, record in enumerate(batch)]


def _log(index: int, record: bytes, results: list[tuple[str, Any, str, dict[str, Any]]]) -> Any:
    from tensorflow_serving.apis import prediction_log_pb2

    log = prediction_log_pb2.PredictionLog()
    if len(results) > 1:
        request = log.multi_inference_log.request
        request.input.example_list.examples.add().ParseFromString(record)
        for name, signature, _, outputs in results:
            task = request.tasks.add()
            task.model_spec.signature_name = name
            task.method_name = signature.method_name
            result = log.multi_inference_log.response.results.add()
            result.model_spec.signature_name = name
            _fill_result(result, signature.method_name, outputs, index)
        return log
    name, signature, input_name, outputs = results[0]
    if signature.method_name in (CLASSIFY, REGRESS):
        part = log.classify_log if signature.method_name == CLASSIFY else log.regress_log
        part.request.model_spec.signature_name = name
        part.request.input.example_list.examples.add().ParseFromString(record)
        _fill_result(part.response, signature.method_name, outputs, index)
        return log
    _fill_predict(log.predict_log, name, input_name, record, outputs, index)
    return log


def _fill_result(response: Any, method: str, outputs: dict[str, Any], index: int) -> None:
    if method == CLASSIFY:
        classifications = response.classification_result if hasattr(response, "classification_result") else response.result
        entry = classifications.classifications.add()
        classes, scores = outputs.get("classes"), outputs.get("scores")
        returned = classes if classes is not None else scores
        assert returned is not None  # LoadedModel refuses a classify signature without either
        count = len(returned[index])
        for column in range(count):
            item = entry.classes.add()
            if classes is not None:
                item.label = classes[index][column].decode()
            if scores is not None:
                item.score = float(scores[index][column])
    else:
        regressions = response.regression_result if hasattr(response, "regression_result") else response.result
        regressions.regressions.add().value = float(outputs["outputs"].reshape(len(outputs["outputs"]), -1)[index][0])


def _fill_predict(predict_log: Any, name: str, input_name: str, record: bytes, outputs: dict[str, Any], index: int) -> None:
    import numpy as np
    import tensorflow as tf

    tensor = predict_log.request.inputs[input_name]
    tensor.dtype = tf.string.as_datatype_enum
    tensor.tensor_shape.dim.add().size = 1
    tensor.string_val.append(record)
    predict_log.request.model_spec.signature_name = name
    predict_log.response.model_spec.signature_name = name
    for key, value in outputs.items():
        row = np.expand_dims(value[index], axis=0)
        predict_log.response.outputs[key].CopyFrom(tf.make_tensor_proto(row))


class SavedModelHandler(ModelHandler[bytes, Any, LoadedModel]):
    """Beam ModelHandler: each worker loads the SavedModel once and runs batches of examples.

    Given the model already ``loaded`` (as the executor does, to check model_spec before Beam
    starts), every RunInference in this process uses it instead of loading the model again,
    one load per split; ``release()`` lets it go once the pipeline is done."""

    def __init__(self, path: str, tags: list[str], signature_names: list[str], loaded: LoadedModel | None = None) -> None:
        super().__init__()
        self.path = path
        self.tags = tags
        self.signature_names = signature_names
        self.key = uuid.uuid4().hex
        if loaded is not None:
            _LOADED_HERE[self.key] = loaded

    def load_model(self) -> LoadedModel:
        loaded = _LOADED_HERE.get(self.key)
        if loaded is not None:
            return loaded
        from pipelinekit.components.util.keras3 import use_keras3

        use_keras3()
        return LoadedModel(self.path, self.tags, self.signature_names)

    def release(self) -> None:
        """Forget the model handed in as ``loaded``; later loads read it from ``path``."""
        _LOADED_HERE.pop(self.key, None)

    def run_inference(
        self, batch: Sequence[bytes], model: LoadedModel, inference_args: dict[str, Any] | None = None
    ) -> Iterable[Any]:
        return model.run(batch)

    def get_num_bytes(self, batch: Sequence[bytes]) -> int:
        return sum(len(record) for record in batch)

    def get_metrics_namespace(self) -> str:
        return "pipelinekit_bulk_inferrer"

    def share_model_across_processes(self) -> bool:
        return False

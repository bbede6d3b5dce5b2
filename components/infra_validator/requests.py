"""TF Serving requests built from tf.Examples, one kind per signature method, and warmup files."""

from __future__ import annotations

import os
from typing import Any

from pipelinekit.errors import RunError
from pipelinekit.types.standard import Examples

__all__ = ["RequestBuildError", "UnreadableModelError", "build_requests", "write_warmup", "read_examples", "signature_defs"]

CLASSIFY = "tensorflow/serving/classify"
REGRESS = "tensorflow/serving/regress"
PREDICT = "tensorflow/serving/predict"
WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")


class RequestBuildError(RunError):
    """Requests cannot be built: no such split or signature, or a signature that does not take tf.Examples."""


class UnreadableModelError(RunError):
    """``saved_model.pb`` is missing or is not a SavedModel: the model is broken, not the request spec."""


def signature_defs(saved_model_dir: str) -> dict[str, Any]:
    """The SignatureDefs of the ``serve`` MetaGraph in ``saved_model.pb``."""
    from google.protobuf.message import DecodeError
    from tensorflow.core.protobuf import saved_model_pb2

    path = os.path.join(saved_model_dir, "saved_model.pb")
    try:
        with open(path, "rb") as handle:
            saved_model = saved_model_pb2.SavedModel.FromString(handle.read())
    except (OSError, DecodeError) as error:
        raise UnreadableModelError(f"{path} cannot be read as a SavedModel: {type(error).__name__}: {error}") from error
    for graph in saved_model.meta_graphs:
        if "serve" in graph.meta_info_def.tags:
            return dict(graph.signature_def)
    return {}


def read_examples(examples: Examples, split: str, count: int) -> list[bytes]:
    """Up to ``count`` serialized tf.Examples from one split."""
    import tensorflow as tf

    files = tf.io.gfile.glob(os.path.join(examples.split_uri(split), "*"))
    if not files:
        raise RequestBuildError(
            f"request_spec.split_name {split!r}: Examples at {examples.uri} have no such split (its splits: "
            f"{', '.join(examples.splits) or 'none recorded'})"
        )
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").take(count)
    return [record.numpy() for record in dataset]


def build_requests(saved_model_dir: str, model_name: str, signature_names: list[str], records: list[bytes]) -> list[Any]:
    """One Predict, Classify or Regress request per signature, holding ``records``."""
    signatures = signature_defs(saved_model_dir)
    return [_request(model_name, name, signatures, records) for name in signature_names or ["serving_default"]]


def _request(model_name: str, name: str, signatures: dict[str, Any], records: list[bytes]) -> Any:
    import tensorflow as tf
    from tensorflow_serving.apis import classification_pb2, predict_pb2, regression_pb2

    if name not in signatures:
        raise RequestBuildError(
            f"request_spec.tensorflow_serving.signature_names names {name!r}, which the model lacks "
            f"(its signatures: {', '.join(sorted(signatures))})"
        )
    signature = signatures[name]
    if signature.method_name in (CLASSIFY, REGRESS):
        request: Any = (
            classification_pb2.ClassificationRequest() if signature.method_name == CLASSIFY else regression_pb2.RegressionRequest()
        )
        for record in records:
            request.input.example_list.examples.add().ParseFromString(record)
    else:
        inputs = dict(signature.inputs)
        if len(inputs) != 1 or next(iter(inputs.values())).dtype != tf.string.as_datatype_enum:
            raise RequestBuildError(
                f"signature {name!r} takes {sorted(inputs)}; InfraValidator builds predict requests only for "
                "signatures with one string input (serialized tf.Examples)"
            )
        request = predict_pb2.PredictRequest()
        request.inputs[next(iter(inputs))].CopyFrom(tf.make_tensor_proto(records, dtype=tf.string))
    request.model_spec.name = model_name
    request.model_spec.signature_name = name
    return request


def write_warmup(saved_model_dir: str, requests: list[Any]) -> str:
    """Write ``requests`` as TF Serving's warmup file (PredictionLog TFRecords) into the model."""
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    path = os.path.join(saved_model_dir, WARMUP_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for request in requests:
            log = prediction_log_pb2.PredictionLog()
            kind = {"PredictRequest": log.predict_log, "ClassificationRequest": log.classify_log}.get(
                type(request).__name__, log.regress_log
            )
            kind.request.CopyFrom(request)
            writer.write(log.SerializeToString())
    return path

"""SavedModels and helpers for the route tests: models that tell apart who answered, and a slow one."""

from __future__ import annotations

import os

import numpy as np
from serving_helpers import HALF_PLUS_TWO_VERSION, push_version


def save_offset_model(version_dir: str, offset: float, sleep_ms: int = 0) -> None:
    """A SavedModel whose ``serving_default`` maps x (float [batch, 1]) to y = x / 2 + ``offset``.

    With ``sleep_ms`` the signature first sleeps that long (tf.data's SleepDataset, an op that
    survives saving), to play a slow primary.
    """
    import tensorflow as tf
    from tensorflow.python.data.experimental.ops import testing as data_testing

    module = tf.Module()

    @tf.function(input_signature=[tf.TensorSpec([None, 1], tf.float32, name="x")])
    def serve(x):
        if sleep_ms:
            dataset = tf.data.Dataset.from_tensors(x).apply(data_testing.sleep(sleep_ms * 1000))
            x = dataset.get_single_element()
        return {"y": x * 0.5 + offset}

    module.serve = serve
    tf.saved_model.save(module, version_dir, signatures={"serving_default": serve})


def model_config(models: dict[str, str]):
    """A ModelServerConfig serving each ``name: base_path``."""
    from pipelinekit.serving.model_config import ModelServerConfig

    config = ModelServerConfig()
    for name, base_path in models.items():
        entry = config.model_config_list.config.add()
        entry.name, entry.base_path, entry.model_platform = name, base_path, "tensorflow"
    return config


def build_models(root: str) -> dict[str, str]:
    """Base paths of: stable (half_plus_two, v1: x/2+2), canary (v1: x/2+3), slow (v1: x/2+4 after 300 ms)."""
    paths = {name: os.path.join(root, name) for name in ("stable", "canary", "slow")}
    push_version(paths["stable"], 1, HALF_PLUS_TWO_VERSION)
    save_offset_model(os.path.join(paths["canary"], "1"), 3.0)
    save_offset_model(os.path.join(paths["slow"], "1"), 4.0, sleep_ms=300)
    return paths


def offset_of(y: float, x: float = 1.0) -> float:
    """Which model answered: the offset in y = x / 2 + offset."""
    return round(float(y) - x * 0.5, 3)


def predict_request(route: str, x: float = 1.0):
    """A gRPC PredictRequest of one row [[x]] to ``route``."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = route
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([[x]], np.float32)))
    return request


def metric_value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``, from Prometheus text."""
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def answered_y(response) -> float:
    """The one y value of a PredictResponse."""
    import tensorflow as tf

    return float(tf.make_ndarray(response.outputs["y"]).ravel()[0])

"""gRPC compatibility with TF Serving, with the official stubs over loopback, on TF Serving's test model."""

from __future__ import annotations

import json

import grpc
import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import json_format
from serving_helpers import HALF_PLUS_TWO, METADATA_JSON
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from pipelinekit.serving import read_model_config_file

pytestmark = pytest.mark.slow

CONFIG = """
model_config_list {
  config {
    name: "half_plus_two"
    base_path: "%(path)s"
    model_platform: "tensorflow"
    version_labels { key: "stable" value: 123 }
  }
  config { name: "default" base_path: "%(path)s" }
}
"""


@pytest.fixture(scope="module")
def server(start_server, tmp_path_factory):
    path = tmp_path_factory.mktemp("config") / "models.config"
    path.write_text(CONFIG % {"path": HALF_PLUS_TWO})
    return start_server(read_model_config_file(str(path)))


@pytest.fixture(scope="module")
def channel(server):
    with grpc.insecure_channel(server.grpc_address) as channel:
        yield channel


@pytest.fixture(scope="module")
def predictions(channel):
    return prediction_service_pb2_grpc.PredictionServiceStub(channel)


@pytest.fixture(scope="module")
def models(channel):
    return model_service_pb2_grpc.ModelServiceStub(channel)


def predict_request(values, name="half_plus_two", **spec) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    for key, value in spec.items():
        if key == "version":
            request.model_spec.version.value = value
        else:
            setattr(request.model_spec, key, value)
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array(values, dtype=np.float32)))
    return request


def examples(*values: float) -> list[tf.train.Example]:
    return [
        tf.train.Example(
            features=tf.train.Features(
                feature={"x": tf.train.Feature(float_list=tf.train.FloatList(value=[v]))}
            )
        )
        for v in values
    ]


def test_predict_half_plus_two(predictions):
    response = predictions.Predict(predict_request([[1.0], [2.0], [5.0]]), timeout=10)
    np.testing.assert_allclose(tf.make_ndarray(response.outputs["y"]), [[2.5], [3.0], [4.5]])
    assert response.model_spec.name == "half_plus_two"
    assert response.model_spec.version.value == 123
    assert response.model_spec.signature_name == "serving_default"


def test_predict_accepts_a_flat_batch_like_tf_serving(predictions):
    response = predictions.Predict(predict_request([1.0, 2.0, 5.0]), timeout=10)
    np.testing.assert_allclose(tf.make_ndarray(response.outputs["y"]), [2.5, 3.0, 4.5])


def test_predict_by_version_and_by_label(predictions):
    by_version = predictions.Predict(predict_request([[1.0]], version=123), timeout=10)
    by_label = predictions.Predict(predict_request([[1.0]], version_label="stable"), timeout=10)
    assert by_version.model_spec.version.value == by_label.model_spec.version.value == 123


def test_predict_output_filter(predictions):
    request = predict_request([[1.0]])
    request.output_filter.append("y")
    assert list(predictions.Predict(request, timeout=10).outputs) == ["y"]
    request.output_filter[:] = ["nope"]
    with pytest.raises(grpc.RpcError) as error:
        predictions.Predict(request, timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "nope" in error.value.details()


def test_get_model_metadata_matches_tf_serving(predictions):
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = "default"
    response = predictions.GetModelMetadata(request, timeout=10)
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(signature_map)
    answer = {
        "model_spec": json_format.MessageToDict(
            response.model_spec, preserving_proto_field_name=True, including_default_value_fields=True
        ),
        "metadata": {
            "signature_def": json_format.MessageToDict(
                signature_map, preserving_proto_field_name=True, including_default_value_fields=True
            )
        },
    }
    with open(METADATA_JSON) as handle:
        expected = json.load(handle)
    assert answer == expected


def test_regress_on_tf_examples(predictions):
    request = regression_pb2.RegressionRequest()
    request.model_spec.name = "half_plus_two"
    request.model_spec.signature_name = "regress_x_to_y"
    request.input.example_list.examples.extend(examples(1.0, 4.0))
    response = predictions.Regress(request, timeout=10)
    assert [r.value for r in response.result.regressions] == [2.5, 4.0]
    assert response.model_spec.version.value == 123


def test_classify_on_tf_examples(predictions):
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = "half_plus_two"
    request.model_spec.signature_name = "classify_x_to_y"
    request.input.example_list.examples.extend(examples(2.0))
    response = predictions.Classify(request, timeout=10)
    assert [[(c.label, c.score) for c in row.classes] for row in response.result.classifications] == [
        [("", 3.0)]
    ]


def test_multi_inference_runs_each_task(predictions):
    request = inference_pb2.MultiInferenceRequest()
    for signature in ("regress_x_to_y", "regress_x_to_y2"):
        task = request.tasks.add()
        task.model_spec.name = "half_plus_two"
        task.model_spec.signature_name = signature
        task.method_name = "tensorflow/serving/regress"
    request.input.example_list.examples.extend(examples(2.0))
    response = predictions.MultiInference(request, timeout=10)
    assert [r.regression_result.regressions[0].value for r in response.results] == [
        3.0,
        4.0,
    ]  # 0.5x+2, 0.5x+3


def test_get_model_status(models):
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "half_plus_two"
    response = models.GetModelStatus(request, timeout=10)
    [status] = response.model_version_status
    assert status.version == 123
    assert status.state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
    assert status.status.error_code == 0


@pytest.mark.parametrize(
    ("request_args", "code", "words"),
    [
        ({"name": "no_such_model"}, grpc.StatusCode.NOT_FOUND, "no_such_model"),
        ({"version": 7}, grpc.StatusCode.NOT_FOUND, "version 7"),
        ({"version_label": "canary"}, grpc.StatusCode.INVALID_ARGUMENT, "canary"),
        ({"signature_name": "no_such_signature"}, grpc.StatusCode.FAILED_PRECONDITION, "no_such_signature"),
    ],
)
def test_predict_error_codes(predictions, request_args, code, words):
    with pytest.raises(grpc.RpcError) as error:
        predictions.Predict(predict_request([[1.0]], **request_args), timeout=10)
    assert error.value.code() == code
    assert words in error.value.details()


def test_predict_wrong_input_name_is_invalid_argument(predictions):
    request = predict_request([[1.0]])
    request.inputs["z"].CopyFrom(request.inputs.pop("x"))
    with pytest.raises(grpc.RpcError) as error:
        predictions.Predict(request, timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "missing ['x']" in error.value.details() and "unexpected ['z']" in error.value.details()


def test_predict_wrong_dtype_is_invalid_argument(predictions):
    request = predict_request([[1.0]])
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([["a"]])))
    with pytest.raises(grpc.RpcError) as error:
        predictions.Predict(request, timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "'x'" in error.value.details() and "float" in error.value.details()


def test_classify_unknown_signature_is_invalid_argument(predictions):
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = "half_plus_two"
    request.model_spec.signature_name = "nope"
    request.input.example_list.examples.extend(examples(2.0))
    with pytest.raises(grpc.RpcError) as error:
        predictions.Classify(request, timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_regress_on_a_predict_signature_is_invalid_argument(predictions):
    request = regression_pb2.RegressionRequest()
    request.model_spec.name = "half_plus_two"
    request.input.example_list.examples.extend(examples(2.0))
    with pytest.raises(grpc.RpcError) as error:
        predictions.Regress(request, timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "tensorflow/serving/regress" in error.value.details()


def test_status_of_unknown_model_is_not_found(models):
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "no_such_model"
    with pytest.raises(grpc.RpcError) as error:
        models.GetModelStatus(request, timeout=10)
    assert error.value.code() == grpc.StatusCode.NOT_FOUND

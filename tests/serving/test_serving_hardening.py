"""Issue 7's defects over real gRPC and HTTP: memory bombs, strict JSON types, TF Serving's answers."""

from __future__ import annotations

import os
import time

import grpc
import httpx
import numpy as np
import pytest
import tensorflow as tf
from serving_helpers import HALF_PLUS_TWO_VERSION, push_version, save_typed_model
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import (
    get_model_status_pb2,
    model_management_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from pipelinekit.serving.memory import resident_bytes
from pipelinekit.serving.model_config import ModelServerConfig

pytestmark = pytest.mark.slow

MAX_TENSOR_BYTES = 1024 * 1024


def _config(root: str, stable: int = 123) -> ModelServerConfig:
    config = ModelServerConfig()
    half = config.model_config_list.config.add(name="half_plus_two", base_path=os.path.join(root, "half"))
    half.model_version_policy.all.SetInParent()
    half.version_labels["stable"] = stable
    for name in ("typed", "empty", "broken", "no_pb"):
        config.model_config_list.config.add(name=name, base_path=os.path.join(root, name))
    return config


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("models")
    for version in (123, 124):
        push_version(str(root / "half"), version, HALF_PLUS_TWO_VERSION)
    save_typed_model(str(root / "typed" / "1"))
    (root / "empty").mkdir()
    (root / "broken" / "1").mkdir(parents=True)
    (root / "broken" / "1" / "saved_model.pb").write_bytes(b"\xff not a SavedModel")
    (root / "no_pb" / "1" / "variables").mkdir(parents=True)
    return str(root)


@pytest.fixture(scope="module")
def server(start_server, root):
    return start_server(_config(root), max_tensor_bytes=MAX_TENSOR_BYTES)


@pytest.fixture(scope="module")
def channel(server):
    with grpc.insecure_channel(server.grpc_address) as channel:
        yield channel


@pytest.fixture(scope="module")
def predict(channel):
    return prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict


@pytest.fixture(scope="module")
def models(channel):
    return model_service_pb2_grpc.ModelServiceStub(channel)


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.rest_url, timeout=10) as client:
        yield client


def _request(model: str = "half_plus_two", dims=(1, 1), dtype=types_pb2.DT_FLOAT, **values):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    proto = request.inputs["x"]
    proto.dtype = dtype
    for size in dims:
        proto.tensor_shape.dim.add(size=size)
    for field, items in values.items():
        if field == "tensor_content":
            proto.tensor_content = items
        else:
            getattr(proto, field).extend(items)
    return request


def _rpc_error(call, request) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        call(request, timeout=10)
    return error.value


@pytest.mark.parametrize("model", ["half_plus_two", "no_such_model"])
def test_a_45_byte_request_for_gigabytes_allocates_nothing(predict, model):
    bomb = _request(model, dims=(250_000_000, 1), float_val=[1.0])
    assert bomb.inputs["x"].ByteSize() < 45
    before, start = resident_bytes(), time.monotonic()
    error = _rpc_error(predict, bomb)
    assert time.monotonic() - start < 2 and resident_bytes() - before < 50 * 1024 * 1024
    if model == "no_such_model":  # the model is looked up before the inputs are read
        assert error.code() == grpc.StatusCode.NOT_FOUND
    else:
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "--max_tensor_bytes" in error.details()


@pytest.mark.parametrize(
    ("request_", "words"),
    [
        (_request(dims=(-5, 1), float_val=[1.0]), "negative dimension"),
        (_request(dims=(4,), float_val=[1.0, 2.0]), "holds 2 values"),
        (_request(dims=(1,), dtype=types_pb2.DT_RESOURCE), "resource"),
        (_request(dims=(1,), dtype=types_pb2.DT_VARIANT), "variant"),
        (_request(dims=(2,), tensor_content=b"\0" * 3), "tensor_content has 3 bytes"),
    ],
)
def test_inconsistent_tensor_protos_are_invalid_argument(predict, request_, words):
    error = _rpc_error(predict, request_)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert words in error.details() and "'x'" in error.details()


def test_the_limit_is_configurable_and_a_request_within_it_works(predict):
    assert predict(_request(dims=(1000, 1), float_val=[1.0]), timeout=10).outputs["y"].tensor_shape.dim[0].size
    error = _rpc_error(predict, _request(dims=(MAX_TENSOR_BYTES // 4 + 1,), float_val=[1.0]))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


@pytest.mark.parametrize(
    ("signature", "value", "expected_type"),
    [
        ("float", None, "float"),
        ("float", True, "float"),
        ("float", "1.5", "float"),
        ("int32", 3000000000, "int32"),
        ("int32", 1.7, "int32"),
        ("bool", 5, "bool"),
        ("bool", "false", "bool"),
        ("int64", 2**63, "int64"),
    ],
)
def test_rest_values_of_the_wrong_json_type_are_400(http, signature, value, expected_type):
    body = {"signature_name": signature, "instances": [value]}
    response = http.post("/v1/models/typed:predict", json=body)
    assert response.status_code == 400
    assert f"is not of expected type: {expected_type}" in response.json()["error"]


@pytest.mark.parametrize(
    ("signature", "values", "expected"),
    [
        ("int32", [1, -(2**31)], [2, -(2**31) + 1]),
        ("int64", [2**62], [2**62 + 1]),
        ("bool", [True, False], [False, True]),
        ("float", [1, 2.5], [2.0, 3.5]),
        ("string", ["a", {"b64": "Yg=="}], ["a!", "b!"]),
    ],
)
def test_rest_values_of_the_right_type_answer_exactly(http, signature, values, expected):
    body = {"signature_name": signature, "instances": values}
    assert http.post("/v1/models/typed:predict", json=body).json() == {"predictions": expected}


def test_a_scalar_string_output_over_rest_and_grpc(http, predict):
    body = {"signature_name": "scalar_string", "inputs": {"x": 1.0}}
    assert http.post("/v1/models/typed:predict", json=body).json() == {"outputs": "hello"}
    body = {"signature_name": "scalar_string", "instances": [1.0]}
    rows = http.post("/v1/models/typed:predict", json=body)  # a scalar has no batch dimension to split
    assert rows.status_code == 400 and "label has no shape information" in rows.json()["error"]
    request = _request("typed", dims=(), float_val=[1.0])
    request.model_spec.signature_name = "scalar_string"
    assert predict(request, timeout=10).outputs["label"].string_val == [b"hello"]


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("/v1/models/half_plus_two/versions/99999999999999999999:predict", b'{"instances": [1.0]}',
         "Failed to convert version"),
        ("/v1/models/half_plus_two:predict", b'{"instances": [1' + b"0" * 400 + b"]}", "not of expected type"),
        ("/v1/models/half_plus_two:predict", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        ("/v1/models/half_plus_two:predict", b"", "The document is empty"),
        ("/v1/models/half_plus_two:predict", b'{"instances": [[1.0], 2.0]}', "incorrect level"),
    ],
)  # fmt: skip
def test_client_mistakes_are_400_never_500(http, path, body, words):
    response = http.post(path, content=body)
    assert response.status_code == 400, response.text
    assert words in response.json()["error"]


def test_rest_looks_the_model_up_before_reading_the_body(http):
    body = b'{"instances": [' + b"1.0," * 10_000 + b"not json at all"
    response = http.post("/v1/models/no_such_model:predict", content=body)
    assert response.status_code == 404 and "no_such_model" in response.json()["error"]


def test_status_of_a_model_without_versions_is_not_found(models, http):
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "empty"
    error = _rpc_error(models.GetModelStatus, request)
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert "Could not find any versions of model empty" in error.details()
    assert http.get("/v1/models/empty").status_code == 404
    request.model_spec.version.value = 3
    assert _rpc_error(models.GetModelStatus, request).code() == grpc.StatusCode.NOT_FOUND


def test_status_without_model_spec_is_invalid_argument(models):
    error = _rpc_error(models.GetModelStatus, get_model_status_pb2.GetModelStatusRequest())
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "Missing ModelSpec" in error.details()


def test_status_by_label_answers_every_version(http):
    answer = http.get("/v1/models/half_plus_two/labels/stable").json()
    assert [s["version"] for s in answer["model_version_status"]] == ["124", "123"]


def test_urls_match_case_insensitively_but_verbs_do_not(http):
    response = http.post("/V1/Models/half_plus_two/VERSIONS/123:predict", json={"instances": [1.0]})
    assert response.json() == {"predictions": [2.5]}
    shouting = http.post("/v1/models/half_plus_two:PREDICT", json={"instances": [1.0]})
    assert shouting.status_code == 400 and "Malformed request" in shouting.json()["error"]
    assert "model_version_status" in http.get("/v1/models/half_plus_two/METADATA").json()
    assert http.get("/nope").status_code == 404
    put = http.put("/v1/models/half_plus_two:predict", json={"instances": [1.0]})
    assert put.status_code == 400 and "Malformed request: PUT" in put.json()["error"]


def test_extra_columnar_inputs_are_ignored(http):
    body = {"inputs": {"x": [[1.0]], "not_an_input": "anything"}}
    assert http.post("/v1/models/half_plus_two:predict", json=body).json() == {"outputs": [[2.5]]}


def test_duplicate_output_filter_is_invalid_argument(predict):
    request = _request(float_val=[1.0])
    request.output_filter.extend(["y", "y"])
    error = _rpc_error(predict, request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "duplicate output tensor alias: y" in error.details()


def test_load_failures_carry_the_causes_code(http):
    [broken] = http.get("/v1/models/broken").json()["model_version_status"]
    assert broken["state"] == "END" and broken["status"]["error_code"] == "DATA_LOSS"
    [no_pb] = http.get("/v1/models/no_pb").json()["model_version_status"]
    assert no_pb["status"]["error_code"] == "NOT_FOUND" and "saved_model.pb" in no_pb["status"]["error_message"]


def test_a_label_on_an_unloaded_version_is_failed_precondition_at_reload(server, models, predict, root):
    request = model_management_pb2.ReloadConfigRequest(config=_config(root, stable=7))
    error = _rpc_error(models.HandleReloadConfigRequest, request)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "version 7 of model 'half_plus_two'" in error.details()
    by_label = _request(float_val=[1.0])
    by_label.model_spec.version_label = "stable"
    assert predict(by_label, timeout=10).model_spec.version.value == 123  # the old label still holds


def test_the_server_answers_after_every_mistake(predict):
    response = predict(_request(float_val=[3.0]), timeout=10)
    np.testing.assert_allclose(tf.make_ndarray(response.outputs["y"]), [[3.5]])

"""REST compatibility with TF Serving (real HTTP through httpx), plus the metrics and health endpoints."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
import tensorflow as tf
from serving_helpers import HALF_PLUS_TWO, METADATA_JSON

from pipelinekit.serving import single_model_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(start_server):
    config = single_model_config("half_plus_two", HALF_PLUS_TWO)
    config.model_config_list.config[0].version_labels["stable"] = 123
    default = config.model_config_list.config.add(name="default", base_path=HALF_PLUS_TWO)
    assert default.name == "default"
    return start_server(config, max_request_bytes=64 * 1024)


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.rest_url, timeout=10) as client:
        yield client


def test_predict_row_format(http):
    response = http.post("/v1/models/half_plus_two:predict", json={"instances": [1.0, 2.0, 5.0]})
    assert response.status_code == 200
    assert response.json() == {"predictions": [2.5, 3.0, 4.5]}


def test_predict_row_format_with_named_inputs(http):
    body = {"instances": [{"x": [1.0]}, {"x": [3.0]}]}
    assert http.post("/v1/models/half_plus_two:predict", json=body).json() == {"predictions": [[2.5], [3.5]]}


def test_predict_columnar_format(http):
    response = http.post(
        "/v1/models/half_plus_two/versions/123:predict", json={"inputs": {"x": [[1.0], [2.0]]}}
    )
    assert response.json() == {"outputs": [[2.5], [3.0]]}


def test_predict_by_label(http):
    response = http.post("/v1/models/half_plus_two/labels/stable:predict", json={"inputs": [[4.0]]})
    assert response.json() == {"outputs": [[4.0]]}


def test_predict_b64_string_input(http):
    example = tf.train.Example(
        features=tf.train.Features(
            feature={"x": tf.train.Feature(float_list=tf.train.FloatList(value=[6.0]))}
        )
    )
    encoded = base64.b64encode(example.SerializeToString()).decode("ascii")
    body = {"signature_name": "classify_x_to_y", "instances": [{"b64": encoded}]}
    assert http.post("/v1/models/half_plus_two:predict", json=body).json() == {"predictions": [[5.0]]}


def test_classify_and_regress_answer_results(http):
    body = {"signature_name": "regress_x_to_y", "examples": [{"x": 2.0}, {"x": 4.0}]}
    assert http.post("/v1/models/half_plus_two:regress", json=body).json() == {"results": [3.0, 4.0]}
    body = {"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}]}
    assert http.post("/v1/models/half_plus_two:classify", json=body).json() == {"results": [[["", 3.0]]]}


def test_regress_with_context(http):
    body = {"signature_name": "regress_x_to_y", "context": {"x": 8.0}, "examples": [{}, {}]}
    assert http.post("/v1/models/half_plus_two:regress", json=body).json() == {"results": [6.0, 6.0]}


def test_model_status(http):
    response = http.get("/v1/models/half_plus_two")
    assert response.json() == {
        "model_version_status": [
            {"version": "123", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
        ]
    }
    assert http.get("/v1/models/half_plus_two/versions/123").status_code == 200


def test_model_metadata_matches_tf_serving(http):
    with open(METADATA_JSON) as handle:
        expected = json.load(handle)
    assert http.get("/v1/models/default/metadata").json() == expected
    assert http.get("/v1/models/default/versions/123/metadata").json() == expected


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "words"),
    [
        ("POST", "/v1/models/nope:predict", {"instances": [1.0]}, 404, "nope"),
        ("POST", "/v1/models/half_plus_two/versions/9:predict", {"instances": [1.0]}, 404, "version 9"),
        ("POST", "/v1/models/half_plus_two:predict", {"instances": ["a"]}, 400, "'x'"),
        (
            "POST",
            "/v1/models/half_plus_two:predict",
            {"instances": [1.0], "inputs": [1.0]},
            400,
            "exactly one",
        ),
        (
            "POST",
            "/v1/models/half_plus_two:predict",
            {"signature_name": "nope", "instances": [1.0]},
            400,
            "nope",
        ),
        ("POST", "/v1/models/half_plus_two:frobnicate", {}, 400, "Malformed request"),
        ("GET", "/v1/models/nope", None, 404, "nope"),
        ("GET", "/v1/models/half_plus_two/versions/9", None, 404, "9"),
    ],
)
def test_errors_are_json_with_tf_serving_http_codes(http, method, path, body, status, words):
    response = http.request(method, path, json=body)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert words in response.json()["error"]


def test_invalid_json_is_400(http):
    response = http.post("/v1/models/half_plus_two:predict", content=b"{not json")
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


def test_request_size_limit(http):
    response = http.post("/v1/models/half_plus_two:predict", json={"instances": [1.0] * 30000})
    assert response.status_code == 413
    assert "max_request_bytes" in response.json()["error"]


def test_health(http):
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json()["models"] == {"default": [123], "half_plus_two": [123]}


def test_prometheus_metrics_count_requests_per_model_api_and_status(http):
    http.post("/v1/models/half_plus_two:predict", json={"instances": [1.0]})
    http.post("/v1/models/nope:predict", json={"instances": [1.0]})
    text = http.get("/monitoring/prometheus/metrics").text
    assert 'pipelinekit_serving_requests_total{api="rest.predict",model="half_plus_two",status="OK"}' in text
    assert (
        'pipelinekit_serving_requests_total{api="rest.predict",model="_unknown_",status="NOT_FOUND"}' in text
    )
    assert (
        'pipelinekit_serving_request_latency_seconds_count{api="rest.predict",model="half_plus_two",status="OK"}'
        in text
    )
    assert 'pipelinekit_serving_model_versions_available{model="half_plus_two"} 1.0' in text


def test_non_finite_floats_are_written_as_tf_serving_does(http):
    response = http.post("/v1/models/half_plus_two:predict", content=b'{"instances": [NaN, Infinity]}')
    assert response.status_code == 200
    assert response.text == '{"predictions":[NaN,Infinity]}'


def test_grpc_request_size_limit_is_resource_exhausted(server):
    import grpc
    import numpy as np
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    request = predict_pb2.PredictRequest()
    request.model_spec.name = "half_plus_two"
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.zeros((30000, 1), dtype=np.float32)))
    with grpc.insecure_channel(server.grpc_address) as channel, pytest.raises(grpc.RpcError) as error:
        prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=10)
    assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_binds_loopback_only_by_default(server):
    assert server.grpc_address.startswith("127.0.0.1:") and server.rest_url.startswith("http://127.0.0.1:")


def test_a_port_in_use_is_a_clear_error(server, start_server):
    with pytest.raises(OSError, match="--rest_api_port"):
        start_server(single_model_config("half_plus_two", HALF_PLUS_TWO), rest_port=server.rest_port)
    with pytest.raises(OSError, match="--port"):
        start_server(
            single_model_config("half_plus_two", HALF_PLUS_TWO),
            grpc_port=int(server.grpc_address.split(":")[1]),
        )

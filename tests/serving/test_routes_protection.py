"""Protection and a model's own failures, on a real server: a canary whose graph asserts fail on
the requests its route's other target answers (INVALID_ARGUMENT) is switched off, while
malformed requests that every target rejects trip nothing."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request

import grpc
import numpy as np
import pytest
from routing_helpers import answered_y, metric_value, model_config, offset_of, predict_request
from serving_helpers import HALF_PLUS_TWO_VERSION, push_version
from tensorflow_serving.apis import prediction_service_pb2_grpc

STABLE = 2.0
WINDOW_S = 10.0

pytestmark = pytest.mark.slow


def save_asserting_model(version_dir: str) -> None:
    """x -> y = x / 2 + 5, behind a tf.debugging assert that x is negative: every normal input fails it."""
    import tensorflow as tf

    module = tf.Module()

    @tf.function(input_signature=[tf.TensorSpec([None, 1], tf.float32, name="x")])
    def serve(x):
        with tf.control_dependencies([tf.debugging.assert_negative(x, message="broken canary")]):
            return {"y": x * 0.5 + 5.0}

    module.serve = serve
    tf.saved_model.save(module, version_dir, signatures={"serving_default": serve})


@pytest.fixture(scope="module")
def env(tmp_path_factory, start_server):
    root = str(tmp_path_factory.mktemp("protection"))
    paths = {"stable": os.path.join(root, "stable"), "broken": os.path.join(root, "broken")}
    push_version(paths["stable"], 1, HALF_PLUS_TWO_VERSION)
    save_asserting_model(os.path.join(paths["broken"], "1"))
    routes = os.path.join(root, "routes.yaml")
    with open(routes, "w", encoding="utf-8") as handle:
        handle.write("routes:\n")
        for name in ("canaried", "rest_canaried", "classify_canaried"):
            handle.write(
                f"  - name: {name}\n    split: [{{model: stable, weight: 50}}, {{model: broken, weight: 50}}]\n"
                f"    protection: {{window_s: {WINDOW_S}, min_requests: 5, max_error_rate: 0.5}}\n"
            )
    server = start_server(model_config(paths), route_config_file=routes, route_poll_wait_seconds=0)
    channel = grpc.insecure_channel(server.grpc_address)
    yield {"server": server, "stub": prediction_service_pb2_grpc.PredictionServiceStub(channel)}
    channel.close()


def _malformed(kind: str):
    """A request every target rejects: an input the signature does not have, or a string for a float."""
    import tensorflow as tf

    request = predict_request("canaried")
    del request.inputs["x"]
    name, value = ("z", np.array([[1.0]], np.float32)) if kind == "name" else ("x", np.array([[b"1.0"]], object))
    request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    return request


def _trips(env, target: str, route: str = "canaried") -> float:
    text = env["server"].metrics.render().decode()
    return metric_value(text, "pipelinekit_route_protection_trips_total", route=route, target=target)


def test_a_canary_whose_asserts_fail_is_switched_off_and_malformed_requests_trip_nothing(env):
    stub, router = env["stub"], env["server"].router
    rejected = {"stable": 0, "broken": 0}
    for index in range(40):  # both targets reject these: the client's fault, no target's
        with pytest.raises(grpc.RpcError) as error:
            stub.Predict(_malformed(("name", "dtype")[index % 2]))
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        rejected["broken" if "broken" in error.value.details() else "stable"] += 1
        time.sleep(0.01)
    assert min(rejected.values()) >= 5, rejected  # each target judged on enough of them
    assert router.routes["canaried"].disabled == frozenset() and _trips(env, "stable") == _trips(env, "broken") == 0

    start, answers, failures = time.monotonic(), [], []
    while "broken" not in router.routes["canaried"].disabled and time.monotonic() - start < WINDOW_S:
        try:
            answers.append(offset_of(answered_y(stub.Predict(predict_request("canaried")))))
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT and "'broken'" in exc.details(), exc.details()
            failures.append(exc)
        time.sleep(0.01)
    took = time.monotonic() - start
    assert "broken" in router.routes["canaried"].disabled, f"still in after {took:.1f} s: {len(failures)} asserts failed"
    assert set(answers) <= {STABLE} and failures  # the broken canary never answered; it was tried
    print(f"switched off after {took:.2f} s, {len(answers)} answers and {len(failures)} failed asserts")
    for _ in range(30):  # the good target serves every request now
        assert offset_of(answered_y(stub.Predict(predict_request("canaried")))) == STABLE
    assert (_trips(env, "broken"), _trips(env, "stable")) == (1, 0)
    assert router.routes["canaried"].disabled == frozenset({"broken"})


def _rest_predict(env) -> float:
    """One REST predict of x = 1 to rest_canaried; the offset of who answered, or HTTPError."""
    body = json.dumps({"instances": [[1.0]]}).encode()
    with urllib.request.urlopen(f"{env['server'].rest_url}/v1/models/rest_canaried:predict", body) as answer:
        return offset_of(json.loads(answer.read())["predictions"][0][0])


def _classify(env) -> float:
    """One gRPC Classify to classify_canaried (broken has no classify signature); the offset, or RpcError."""
    from tensorflow_serving.apis import classification_pb2

    request = classification_pb2.ClassificationRequest()
    request.model_spec.name, request.model_spec.signature_name = "classify_canaried", "classify_x_to_y"
    request.input.example_list.examples.add().features.feature["x"].float_list.value.append(1.0)
    return offset_of(env["stub"].Classify(request).result.classifications[0].classes[0].score)


@pytest.mark.parametrize(("route", "send"), [("rest_canaried", _rest_predict), ("classify_canaried", _classify)])
def test_rest_predicts_and_classify_calls_switch_the_broken_canary_off_too(env, route, send):
    """REST inputs (JSON decoded to arrays) and Classify examples have their kinds too; Classify
    to a model without the signature (INVALID_ARGUMENT) is the model's fault when the other answers."""
    router, start, failed = env["server"].router, time.monotonic(), 0
    while "broken" not in router.routes[route].disabled and time.monotonic() - start < WINDOW_S:
        try:
            assert send(env) == STABLE
        except (urllib.error.HTTPError, grpc.RpcError) as exc:
            assert (exc.code() if isinstance(exc, grpc.RpcError) else exc.code) in (400, grpc.StatusCode.INVALID_ARGUMENT)
            failed += 1
        time.sleep(0.01)
    assert "broken" in router.routes[route].disabled and failed, f"{route}: after {time.monotonic() - start:.1f} s"
    assert all(send(env) == STABLE for _ in range(10))
    assert (_trips(env, "broken", route), _trips(env, "stable", route)) == (1, 0)

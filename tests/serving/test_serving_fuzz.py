"""Fuzzing both ports with random and malformed requests: only TF Serving's client error codes come back.

For every request the server answers with a code TF Serving uses for a client mistake (never
5xx, UNKNOWN or INTERNAL), answers the next good request, keeps its RSS bounded and opens no
file outside the model base paths. ``PIPELINEKIT_FUZZ_EXAMPLES`` raises the number of examples.
"""

from __future__ import annotations

import json
import os
import sys
import threading

import grpc
import httpx
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from serving_helpers import HALF_PLUS_TWO, save_typed_model
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from pipelinekit.serving.memory import resident_bytes
from pipelinekit.serving.model_config import ModelServerConfig

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("PIPELINEKIT_FUZZ_EXAMPLES", "150"))
MAX_REQUEST_BYTES = 256 * 1024
RSS_BOUND = 200 * 1024 * 1024
CLIENT_CODES = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}
CLIENT_HTTP_STATUSES = {400, 404, 405, 413, 429}
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

NAMES = st.sampled_from(["half_plus_two", "typed", "", "nope", "../../etc/passwd", "/etc", "..", "a%2F..%2Fb"])
SIGNATURES = st.sampled_from(["", "float", "int32", "bool", "string", "scalar_string", "serving_default", "x/../y"])
DTYPES = st.sampled_from(sorted(types_pb2.DataType.values())) | st.integers(-5, 500)


class _FileWatch:
    """Records the files the server's threads open (a Python audit hook) while recording is on.

    The test's own thread is left out: hypothesis and linecache read files of their own.
    """

    def __init__(self) -> None:
        self.opened: list[str] = []
        self._on = False
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple) -> None:
        if self._on and event == "open" and isinstance(args[0], str):
            if threading.current_thread() is not threading.main_thread():
                self.opened.append(args[0])

    def __enter__(self) -> _FileWatch:
        self.opened.clear()
        self._on = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._on = False

    def outside(self, allowed: list[str]) -> list[str]:
        """Opened paths that are not under an allowed folder (Python's own files excepted)."""
        allowed = [os.path.realpath(a) for a in (*allowed, sys.prefix, sys.base_prefix, "/proc")]
        return sorted(
            {p for p in self.opened if not any(os.path.realpath(p).startswith(a) for a in allowed)}
        )


_WATCH = _FileWatch()


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("fuzz")
    save_typed_model(str(root / "typed" / "1"))
    return str(root)


@pytest.fixture(scope="module")
def server(start_server, root):
    config = ModelServerConfig()
    config.model_config_list.config.add(name="half_plus_two", base_path=HALF_PLUS_TWO)
    config.model_config_list.config.add(name="typed", base_path=os.path.join(root, "typed"))
    return start_server(config, max_request_bytes=MAX_REQUEST_BYTES, max_tensor_bytes=MAX_REQUEST_BYTES)


@pytest.fixture(scope="module")
def channel(server):
    with grpc.insecure_channel(server.grpc_address) as channel:
        yield channel


@st.composite
def tensor_protos(draw) -> tensor_pb2.TensorProto:
    proto = tensor_pb2.TensorProto(dtype=draw(st.sampled_from([1, 3, 7, 9, 10]) | DTYPES))
    for size in draw(st.lists(st.integers(-2, 2**34) | st.integers(0, 4), max_size=5)):
        proto.tensor_shape.dim.add(size=size)
    proto.tensor_shape.unknown_rank = draw(st.booleans()) and draw(st.booleans())
    proto.float_val.extend(draw(st.lists(st.floats(width=32), max_size=6)))
    proto.int_val.extend(draw(st.lists(st.integers(-(2**31), 2**31 - 1), max_size=6)))
    proto.int64_val.extend(draw(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=3)))
    proto.bool_val.extend(draw(st.lists(st.booleans(), max_size=3)))
    proto.string_val.extend(draw(st.lists(st.binary(max_size=8), max_size=3)))
    proto.half_val.extend(draw(st.lists(st.integers(0, 65535), max_size=3)))
    proto.tensor_content = draw(st.binary(max_size=32))
    return proto


@st.composite
def predict_requests(draw) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = draw(NAMES)
    request.model_spec.signature_name = draw(SIGNATURES)
    choice = draw(st.sampled_from(["none", "version", "label"]))
    if choice == "version":
        request.model_spec.version.value = draw(st.integers(-(2**63), 2**63 - 1) | st.just(123))
    elif choice == "label":
        request.model_spec.version_label = draw(st.text(max_size=5))
    for name in draw(st.lists(st.sampled_from(["x", "v", "y", "", "../x"]), max_size=3, unique=True)):
        request.inputs[name].CopyFrom(draw(tensor_protos()))
    request.output_filter.extend(draw(st.lists(st.sampled_from(["y", "label", "z"]), max_size=3)))
    return request


def _good_grpc(channel) -> None:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "half_plus_two"
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([[4.0]], dtype=np.float32)))
    response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=10)
    assert tf.make_ndarray(response.outputs["y"]).tolist() == [[4.0]]


def _assert_client_code(call, request) -> None:
    try:
        call(request, timeout=10)
    except grpc.RpcError as exc:
        assert exc.code() in CLIENT_CODES, f"{exc.code().name}: {exc.details()}"


def test_random_predict_protos_get_only_client_error_codes(server, channel, root):
    predict = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict
    start = resident_bytes()

    @FUZZ
    @given(predict_requests())
    def check(request):
        _assert_client_code(predict, request)
        _good_grpc(channel)
        assert resident_bytes() - start < RSS_BOUND

    with _WATCH as watch:
        check()
    assert watch.outside([HALF_PLUS_TWO, root]) == []


@pytest.mark.parametrize("method", ["Predict", "Classify", "Regress", "MultiInference", "GetModelMetadata"])
def test_random_bytes_to_every_prediction_method(channel, method):
    call = channel.unary_unary(f"/tensorflow.serving.PredictionService/{method}")

    @FUZZ
    @given(st.binary(max_size=200) | st.just(b"\xff" * 10) | st.just(b""))
    def check(body):
        _assert_client_code(call, body)

    check()
    _good_grpc(channel)


def test_model_service_with_random_specs(channel):
    models = model_service_pb2_grpc.ModelServiceStub(channel)
    metadata = prediction_service_pb2_grpc.PredictionServiceStub(channel).GetModelMetadata

    @FUZZ
    @given(NAMES, st.none() | st.integers(-(2**63), 2**63 - 1), st.lists(st.text(max_size=12), max_size=2))
    def check(name, version, fields):
        status = get_model_status_pb2.GetModelStatusRequest()
        status.model_spec.name = name
        if version is not None:
            status.model_spec.version.value = version
        _assert_client_code(models.GetModelStatus, status)
        meta = get_model_metadata_pb2.GetModelMetadataRequest(model_spec=status.model_spec, metadata_field=fields)
        _assert_client_code(metadata, meta)

    check()


def test_an_oversized_grpc_request_is_resource_exhausted(channel):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "half_plus_two"
    request.inputs["x"].string_val.append(b"x" * (MAX_REQUEST_BYTES + 1))
    with pytest.raises(grpc.RpcError) as error:
        prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=10)
    assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    _good_grpc(channel)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["b64", "x", "v", "y"]), inner),
    max_leaves=15,
)
REST_BODIES = st.fixed_dictionaries(
    {},
    optional={
        "instances": JSON_VALUES,
        "inputs": JSON_VALUES,
        "signature_name": SIGNATURES | JSON_VALUES,
        "examples": JSON_VALUES,
        "context": JSON_VALUES,
    },
).map(lambda body: json.dumps(body).encode())
RAW_BODIES = (
    st.binary(max_size=64)
    | st.just(b"[" * 5000)
    | st.just(b'{"instances": [' + b"1," * 100_000 + b"1]}")  # over the size limit
    | st.just(b"\xff\xfe{}")
)
PATHS = st.builds(
    lambda name, version, verb: f"/v1/models/{name}{version}{verb}",
    NAMES | st.text(alphabet="abc./%-_:", min_size=1, max_size=8),
    st.sampled_from(["", "/versions/123", "/versions/99999999999999999999", "/labels/stable", "/versions/-1"]),
    st.sampled_from([":predict", ":classify", ":regress", ":PREDICT", "/metadata", "", ":explode"]),
) | st.sampled_from(["/v1/models", "/v1/", "/V1/MODELS/half_plus_two", "/", "/v2/models/x", "/v1/models/.."])


def test_random_rest_requests_get_only_client_error_statuses(server, root):
    start = resident_bytes()
    with httpx.Client(base_url=server.rest_url, timeout=10) as http:

        @FUZZ
        @given(st.sampled_from(["GET", "POST"]), PATHS, REST_BODIES | RAW_BODIES)
        def check(method, path, body):
            try:
                response = http.request(method, path, content=body)
            except httpx.InvalidURL:
                assume(False)
            assert response.status_code == 200 or response.status_code in CLIENT_HTTP_STATUSES, response.text
            assert "error" in response.json() if response.status_code != 200 else True
            good = http.post("/v1/models/half_plus_two:predict", json={"instances": [2.0]})
            assert good.json() == {"predictions": [3.0]}
            assert resident_bytes() - start < RSS_BOUND

        with _WATCH as watch:
            check()
    assert watch.outside([HALF_PLUS_TWO, root]) == []


def test_concurrent_fuzzing_leaves_the_server_answering(server, channel):
    """Mistakes from several threads at once, then a good request on each port."""
    errors: list[str] = []

    def hammer(seed: int) -> None:
        predict = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict
        rng = np.random.default_rng(seed)
        for _ in range(50):
            request = predict_pb2.PredictRequest()
            request.model_spec.name = "half_plus_two"
            request.inputs["x"].dtype = int(rng.choice([1, 2, 7, 20, 21]))
            request.inputs["x"].tensor_shape.dim.add(size=int(rng.integers(-1, 10**9)))
            request.inputs["x"].float_val.append(1.0)
            try:
                predict(request, timeout=10)
            except grpc.RpcError as exc:
                if exc.code() not in CLIENT_CODES:
                    errors.append(f"{exc.code().name}: {exc.details()}")

    threads = [threading.Thread(target=hammer, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    _good_grpc(channel)
    assert httpx.get(f"{server.rest_url}/v1/models/half_plus_two", timeout=10).status_code == 200

"""Memory stays flat: per request (no leaked tensors) and per version swap (unloaded weights are returned)."""

from __future__ import annotations

import gc
import os

import numpy as np
import pytest
import tensorflow as tf
from serving_helpers import HALF_PLUS_TWO, grow_model, push_version, wait_for
from tensorflow_serving.apis import predict_pb2

from pipelinekit.serving import Client, single_model_config
from pipelinekit.serving.memory import release_memory, resident_bytes

pytestmark = pytest.mark.slow

WEIGHTS_MB = 48
SWAPS = 4


def _rss_growth_per_call(call, warmup: int, calls: int) -> float:
    for _ in range(warmup):
        call()
    release_memory()
    before = resident_bytes()
    for _ in range(calls):
        call()
    release_memory()
    return (resident_bytes() - before) / calls


@pytest.fixture(scope="module")
def server(start_server):
    return start_server(single_model_config("half_plus_two", HALF_PLUS_TWO))


def test_grpc_predict_keeps_rss_flat(server):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "half_plus_two"
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([[1.0], [2.0]], dtype=np.float32)))
    growth = _rss_growth_per_call(lambda: server.service.predict(request), warmup=2000, calls=15000)
    assert growth < 40, f"RSS grew {growth:.0f} bytes per request (each leaked tensor costs ~340)"


def test_rest_predict_keeps_rss_flat(server):
    import httpx

    with httpx.Client(base_url=server.rest_url, timeout=10) as http:

        def call() -> None:
            http.post("/v1/models/half_plus_two:predict", json={"instances": [1.0, 2.0]}).raise_for_status()

        growth = _rss_growth_per_call(call, warmup=500, calls=3000)
    assert growth < 150, f"RSS grew {growth:.0f} bytes per REST request"


def test_memory_of_unloaded_versions_is_returned(start_server, tmp_path):
    source = str(tmp_path / "source")
    grow_model(source, WEIGHTS_MB)
    base = str(tmp_path / "big")
    push_version(base, 1, source)
    server = start_server(single_model_config("big", base), poll_wait_seconds=0.05)
    with Client(server.grpc_address, "big") as client:
        assert client.predict({"x": [1.0]})["y"].tolist() == [2.0]
        assert gc.get_freeze_count() > 0, "a loaded version is frozen, so request-time collections skip it"
        release_memory()
        first = resident_bytes()
        for version in range(2, SWAPS + 2):
            push_version(base, version, source)
            wait_for(
                lambda v=version: [s.version for s in client.status() if s.state == "AVAILABLE"] == [v],
                what=f"version {version} to replace {version - 1}",
            )
            assert client.predict({"x": [1.0]})["y"].tolist() == [2.0]
        release_memory()
        growth_mb = (resident_bytes() - first) / 2**20
    assert growth_mb < WEIGHTS_MB, f"{SWAPS} swaps of a {WEIGHTS_MB} MB model kept {growth_mb:.0f} MB"
    assert os.path.isdir(os.path.join(base, str(SWAPS + 1)))


def test_a_big_rest_request_takes_a_bounded_multiple_of_its_size(server):
    """JSON costs many times its size as Python objects; the answer must not add a text copy per value."""
    import threading

    import httpx

    body = b'{"inputs": [' + b"1.5," * (1024 * 1024) + b"1.5]}"
    peak, stop = [0], threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], resident_bytes())
            stop.wait(0.002)

    release_memory()
    before = resident_bytes()
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        response = httpx.post(f"{server.rest_url}/v1/models/half_plus_two:predict", content=body, timeout=60)
    finally:
        stop.set()
        watcher.join()
    assert response.status_code == 200 and len(response.json()["outputs"]) == 1024 * 1024 + 1
    ratio = (peak[0] - before) / len(body)
    assert ratio < 30, f"a {len(body) >> 20} MB REST request took {ratio:.0f}x its size at its peak"

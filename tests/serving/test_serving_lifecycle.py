"""Model lifecycle: hot swap under load with no failed request, a broken version, warmup, config reload."""

from __future__ import annotations

import os
import threading

import grpc
import numpy as np
import pytest
import tensorflow as tf
from serving_helpers import push_version, wait_for
from tensorflow_serving.apis import (
    model_management_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_log_pb2,
    prediction_service_pb2_grpc,
)

from pipelinekit.serving import Client, single_model_config

pytestmark = pytest.mark.slow

LOAD_THREADS = 3
MAX_REQUESTS_PER_THREAD = 5000


def _predict_request(name: str) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([[1.0]], dtype=np.float32)))
    return request


class _Load:
    """Threads sending Predict without pause; records failures and the versions that answered."""

    def __init__(self, address: str, name: str) -> None:
        self._channel = grpc.insecure_channel(address)
        self._stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._request = _predict_request(name)
        self._stop = threading.Event()
        self.failures: list[str] = []
        self.versions: list[int] = []
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(LOAD_THREADS)]

    def _run(self) -> None:
        for _ in range(MAX_REQUESTS_PER_THREAD):  # bounded, and stopped by the test long before
            if self._stop.is_set():
                return
            try:
                response = self._stub.Predict(self._request, timeout=10)
                self.versions.append(response.model_spec.version.value)
            except grpc.RpcError as exc:
                self.failures.append(f"{exc.code().name}: {exc.details()}")

    def __enter__(self) -> _Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._channel.close()


@pytest.fixture(scope="module")
def base_path(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("models") / "half_plus_two")
    push_version(path, 1)
    return path


@pytest.fixture(scope="module")
def server(start_server, base_path):
    return start_server(single_model_config("half_plus_two", base_path), poll_wait_seconds=0.1)


@pytest.fixture(scope="module")
def client(server):
    with Client(server.grpc_address, "half_plus_two") as client:
        yield client


def _states(client: Client) -> dict[int, str]:
    return {status.version: status.state for status in client.status()}


def test_hot_swap_under_load_fails_no_request(server, client, base_path):
    assert _states(client) == {1: "AVAILABLE"}
    with _Load(server.grpc_address, "half_plus_two") as load:
        wait_for(lambda: len(load.versions) > 50, what="load to start")
        push_version(base_path, 2)
        wait_for(lambda: _states(client) == {2: "AVAILABLE", 1: "END"}, what="version 2 to replace version 1")
        seen = len(load.versions)
        wait_for(lambda: len(load.versions) > seen + 50, what="requests after the swap")
    assert load.failures == []
    assert load.versions[0] == 1 and load.versions[-1] == 2
    assert set(load.versions) == {1, 2}


def test_broken_version_leaves_previous_serving_and_is_reported(client, base_path):
    staging = os.path.join(base_path, ".tmp-3")
    os.makedirs(staging)
    with open(os.path.join(staging, "saved_model.pb"), "wb") as handle:
        handle.write(b"this is not a SavedModel")
    os.rename(staging, os.path.join(base_path, "3"))
    wait_for(lambda: _states(client).get(3) == "END", what="version 3 to fail")
    [broken] = [s for s in client.status() if s.version == 3]
    assert broken.error_code != "OK"
    assert "version 3" in broken.error_message and "saved_model.pb" in broken.error_message
    assert _states(client)[2] == "AVAILABLE"
    assert client.predict({"x": [[2.0]]})["y"].tolist() == [[3.0]]


def _write_warmup(version_dir: str, records: list[prediction_log_pb2.PredictionLog]) -> None:
    folder = os.path.join(version_dir, "assets.extra")
    os.makedirs(folder)
    with tf.io.TFRecordWriter(os.path.join(folder, "tf_serving_warmup_requests")) as writer:
        for record in records:
            writer.write(record.SerializeToString())


def _warmup_log(input_name: str) -> prediction_log_pb2.PredictionLog:
    log = prediction_log_pb2.PredictionLog()
    log.predict_log.request.model_spec.name = "half_plus_two"
    log.predict_log.request.inputs[input_name].CopyFrom(
        tf.make_tensor_proto(np.array([[1.0]], dtype=np.float32))
    )
    return log


def test_warmup_requests_run_before_a_version_serves(client, base_path, tmp_path, caplog):
    source = str(tmp_path / "4")
    push_version(str(tmp_path), 4)
    _write_warmup(source, [_warmup_log("x"), _warmup_log("x")])
    with caplog.at_level("INFO", logger="pipelinekit.serving.warmup"):
        push_version(base_path, 4, source=source)
        wait_for(lambda: _states(client).get(4) == "AVAILABLE", what="version 4 to serve")
    assert "replayed 2 warmup requests" in caplog.text


def test_failing_warmup_fails_the_load(client, base_path, tmp_path):
    source = str(tmp_path / "5")
    push_version(str(tmp_path), 5)
    _write_warmup(source, [_warmup_log("wrong_input")])
    push_version(base_path, 5, source=source)
    wait_for(lambda: _states(client).get(5) == "END", what="version 5 to fail")
    [failed] = [s for s in client.status() if s.version == 5]
    assert "warmup record 0" in failed.error_message and "wrong_input" in failed.error_message
    assert client.predict({"x": [[0.0]]})["y"].tolist() == [[2.0]]
    assert _states(client)[4] == "AVAILABLE"


def test_reload_config_adds_a_model(server, base_path):
    config = single_model_config("half_plus_two", base_path)
    second = config.model_config_list.config.add(name="second", base_path=base_path)
    second.model_version_policy.specific.versions.append(4)  # the latest, 5, is broken
    with grpc.insecure_channel(server.grpc_address) as channel:
        stub = model_service_pb2_grpc.ModelServiceStub(channel)
        stub.HandleReloadConfigRequest(model_management_pb2.ReloadConfigRequest(config=config), timeout=60)
    with Client(server.grpc_address, "second") as second:
        assert second.predict({"x": [[4.0]]})["y"].tolist() == [[4.0]]
        assert second.status()[0].version == 4


def test_policy_all_reloads_unloaded_versions_and_serves_each(server, client, base_path):
    config = single_model_config("half_plus_two", base_path)
    config.model_config_list.config[0].model_version_policy.all.SetInParent()
    server.manager.reload_config(config)
    states = _states(client)
    assert {v for v, state in states.items() if state == "AVAILABLE"} == {1, 2, 4}
    assert states[3] == states[5] == "END"  # the broken versions are not retried
    with Client(server.grpc_address, "half_plus_two", version=1) as pinned:
        assert pinned.predict({"x": [[2.0]]})["y"].tolist() == [[3.0]]
    assert client.predict({"x": [[2.0]]})["y"].tolist() == [[3.0]]


def test_server_starts_when_a_model_fails_and_health_says_so(start_server, tmp_path):
    import httpx

    broken = tmp_path / "broken" / "1"
    broken.mkdir(parents=True)
    (broken / "saved_model.pb").write_bytes(b"not a SavedModel")
    push_version(str(tmp_path / "ok"), 1)
    config = single_model_config("half_plus_two", str(tmp_path / "ok"))
    config.model_config_list.config.add(name="broken", base_path=str(broken.parent))
    server = start_server(config)
    health = httpx.get(f"{server.rest_url}/healthz", timeout=10)
    assert health.status_code == 503 and health.json()["not_serving"] == ["broken"]
    with Client(server.rest_url, "broken") as client:
        [status] = client.status()
    assert status.state == "END" and "saved_model.pb" in status.error_message

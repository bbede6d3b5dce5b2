"""The serve flags (tensorflow_model_server's names), a `serve` process stopped by SIGTERM, and batching."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from serving_helpers import HALF_PLUS_TWO, HALF_PLUS_TWO_VERSION

from pipelinekit.serving import BatchingOptions, Client
from pipelinekit.serving.batching import Batcher
from pipelinekit.serving.cli import _server_options, add_serve_arguments

SERVE_SCRIPT = """
import argparse, sys
from pipelinekit.serving.cli import add_serve_arguments, run_serve
parser = argparse.ArgumentParser()
add_serve_arguments(parser)
sys.exit(run_serve(parser.parse_args(sys.argv[1:])))
"""


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    return parser.parse_args(argv)


def test_tf_serving_command_line_parses_with_its_defaults():
    args = parse(["--model_name=half_plus_two", f"--model_base_path={HALF_PLUS_TWO}", "--enable_batching"])
    assert (args.port, args.rest_api_port, args.host) == (8500, 8501, "127.0.0.1")
    options = _server_options(args)
    assert options.config.model_config_list.config[0].name == "half_plus_two"
    assert (options.grpc_port, options.rest_port, options.poll_wait_seconds) == (8500, 8501, 1.0)
    assert options.batching == BatchingOptions(32, 0)


def test_rest_api_port_zero_turns_rest_off_as_in_tf_serving():
    options = _server_options(parse([f"--model_base_path={HALF_PLUS_TWO}", "--rest_api_port=0"]))
    assert options.rest_port is None and options.batching is None


def test_serve_needs_a_base_path_or_a_config_file():
    from pipelinekit.serving import ModelConfigError

    with pytest.raises(ModelConfigError, match="--model_base_path"):
        _server_options(parse([]))


@pytest.mark.slow
def test_serve_process_answers_and_stops_gracefully_on_sigterm():
    argv = [
        "--model_name=half_plus_two",
        f"--model_base_path={HALF_PLUS_TWO}",
        "--port=0",
        "--rest_api_port=0",
    ]
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE_SCRIPT, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = process.stdout.readline()  # printed once the model serves; bounded by the test timeout
        assert line.startswith("Serving ['half_plus_two']: gRPC 127.0.0.1:"), line
        address = line.split("gRPC ")[1].strip()
        with Client(address, "half_plus_two", timeout_s=10) as client:
            assert client.predict({"x": [[1.0]]})["y"].tolist() == [[2.5]]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


class _CountingServable:
    """Wraps a real Servable and counts model calls (the batcher's observable effect)."""

    def __init__(self, servable) -> None:
        self._servable = servable
        self.calls = 0

    def run(self, signature, inputs, output_filter):
        self.calls += 1
        time.sleep(0.01)  # a model slower than the arrival of requests, so they queue up
        return self._servable.run(signature, inputs, output_filter)


@pytest.mark.slow
def test_batcher_merges_concurrent_requests_and_splits_answers():
    from pipelinekit.serving.servable import Servable

    servable = _CountingServable(Servable("half_plus_two", 123, HALF_PLUS_TWO_VERSION))
    batcher = Batcher(BatchingOptions(max_batch_size=8, batch_timeout_micros=50_000))
    results: dict[int, np.ndarray] = {}

    def call(i: int) -> None:
        results[i] = batcher.run(servable, "", {"x": np.array([[float(i)]], dtype=np.float32)}, ())["y"]

    threads = [threading.Thread(target=call, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert {i: r.tolist() for i, r in results.items()} == {i: [[0.5 * i + 2]] for i in range(16)}
    assert servable.calls < 16


@pytest.mark.slow
def test_requests_arriving_during_a_batch_form_the_next_one_and_a_lone_request_never_waits():
    from pipelinekit.serving.servable import Servable

    servable = _CountingServable(Servable("half_plus_two", 123, HALF_PLUS_TWO_VERSION))
    batcher = Batcher(BatchingOptions(max_batch_size=4, batch_timeout_micros=0))
    start = time.monotonic()
    assert batcher.run(servable, "", {"x": np.array([[2.0]], dtype=np.float32)}, ())["y"].tolist() == [[3.0]]
    assert time.monotonic() - start < 0.5 and servable.calls == 1
    results: dict[int, list] = {}

    def call(i: int) -> None:
        results[i] = batcher.run(servable, "", {"x": np.array([[float(i)]], dtype=np.float32)}, ())["y"].tolist()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == {i: [[0.5 * i + 2]] for i in range(12)}
    assert servable.calls - 1 < 12  # each 10 ms model call gathers the requests that queued meanwhile
    assert batcher._queues == {}  # an idle batcher keeps no servable alive


@pytest.mark.slow
def test_server_with_batching_answers_every_concurrent_request(start_server):
    from pipelinekit.serving import single_model_config

    server = start_server(
        single_model_config("half_plus_two", HALF_PLUS_TWO),
        batching=BatchingOptions(8, 20_000),
        rest_port=None,
    )
    answers: dict[int, list] = {}

    def call(i: int) -> None:
        with Client(server.grpc_address, "half_plus_two") as client:
            answers[i] = client.predict({"x": [[float(i)]]})["y"].tolist()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert answers == {i: [[0.5 * i + 2]] for i in range(8)}


@pytest.mark.slow
def test_config_file_watcher_applies_a_changed_file(start_server, tmp_path):
    from pipelinekit.serving import read_model_config_file
    from pipelinekit.serving.cli import _start_config_watcher

    path = tmp_path / "models.config"
    one = f'model_config_list {{ config {{ name: "a" base_path: "{HALF_PLUS_TWO}" }} }}'
    path.write_text(one)
    server = start_server(read_model_config_file(str(path)), rest_port=None)
    args = parse([f"--model_config_file={path}", "--model_config_file_poll_wait_seconds=0.1"])
    stop = threading.Event()
    watcher = _start_config_watcher(args, server, stop)
    try:
        path.write_text(one.replace("} }", f'}} config {{ name: "b" base_path: "{HALF_PLUS_TWO}" }} }}'))
        deadline = time.monotonic() + 30
        while server.manager.model_names != ["a", "b"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.manager.model_names == ["a", "b"]
    finally:
        stop.set()
        watcher.join(timeout=10)


@pytest.mark.slow
def test_timeouts_are_deadline_exceeded_on_both_ports(start_server):
    import httpx

    from pipelinekit.serving import single_model_config
    from pipelinekit.serving.errors import DeadlineExceededError

    slow = BatchingOptions(max_batch_size=64, batch_timeout_micros=1_000_000)  # each request waits 1 s
    server = start_server(
        single_model_config("half_plus_two", HALF_PLUS_TWO), batching=slow, rest_timeout_s=0.2
    )
    response = httpx.post(
        f"{server.rest_url}/v1/models/half_plus_two:predict", json={"instances": [1.0]}, timeout=10
    )
    assert response.status_code == 504
    assert "--rest_api_timeout_in_ms" in response.json()["error"]
    with (
        Client(server.grpc_address, "half_plus_two", timeout_s=0.2) as client,
        pytest.raises(DeadlineExceededError),
    ):
        client.predict({"x": [[1.0]]})


@pytest.mark.slow
def test_stop_lets_running_requests_finish_on_both_ports(start_server):
    import httpx

    from pipelinekit.serving import single_model_config

    slow = BatchingOptions(max_batch_size=64, batch_timeout_micros=1_000_000)  # each request takes ~1 s
    server = start_server(single_model_config("half_plus_two", HALF_PLUS_TWO), batching=slow)
    answers: dict[str, object] = {}

    def grpc_call() -> None:
        with Client(server.grpc_address, "half_plus_two", timeout_s=30) as client:
            answers["grpc"] = client.predict({"x": [[2.0]]})["y"].tolist()

    def rest_call() -> None:
        body = {"instances": [2.0]}
        answers["rest"] = httpx.post(
            f"{server.rest_url}/v1/models/half_plus_two:predict", json=body, timeout=30
        ).json()

    threads = [threading.Thread(target=grpc_call), threading.Thread(target=rest_call)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # both requests are now waiting inside the server
    server.stop(grace_s=5)
    for thread in threads:
        thread.join(timeout=30)
    assert answers == {"grpc": [[3.0]], "rest": {"predictions": [3.0]}}


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_hides_the_libraries_start_up_notices_unless_asked(workers):
    """TensorFlow's C++ INFO/WARNING lines and Google's Python-support FutureWarning, in the server
    and in the worker processes it starts; -vv shows them again."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTHONWARNINGS")}

    def start_and_stop(*flags: str) -> str:
        argv = [sys.executable, "-m", "pipelinekit", *flags, "serve", f"--model_base_path={HALF_PLUS_TWO}",
                "--port=0", "--rest_api_port=0", f"--num_workers={workers}"]  # fmt: skip
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            assert (process.stdout.readline() if process.stdout else "").startswith("Serving")
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=60)
        finally:
            process.kill()
        assert process.returncode == 0, stderr
        return stderr

    quiet = start_and_stop()
    assert "I tensorflow/" not in quiet and "cpu_feature_guard" not in quiet and "FutureWarning" not in quiet
    if workers == 1:
        assert "cpu_feature_guard" in start_and_stop("-vv")

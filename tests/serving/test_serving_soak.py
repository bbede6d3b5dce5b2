"""Soak: 4 gRPC clients against ``pipelinekit serve`` in its own process, with a version swap halfway.

No request may fail, and the server's RSS must stay flat. The default run is short (6 s); with
``PIPELINEKIT_SOAK=1`` it runs 60 s (``PIPELINEKIT_SOAK_SECONDS`` overrides either). Run with
``-s`` to see the figures: requests, failures, RSS before, during (peak) and after.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import grpc
import numpy as np
import pytest
import tensorflow as tf
from serving_helpers import push_version
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from pipelinekit.serving.memory import resident_bytes

pytestmark = pytest.mark.slow

LONG = os.environ.get("PIPELINEKIT_SOAK") == "1"
SECONDS = float(os.environ.get("PIPELINEKIT_SOAK_SECONDS", "60" if LONG else "6"))
CLIENTS = 4
RSS_GROWTH_BOUND = 40 * 1024 * 1024
SERVE = (
    "import argparse, sys\n"
    "from pipelinekit.serving.cli import add_serve_arguments, run_serve\n"
    "parser = argparse.ArgumentParser()\n"
    "add_serve_arguments(parser)\n"
    "sys.exit(run_serve(parser.parse_args(sys.argv[1:])))\n"
)


@pytest.fixture()
def served(tmp_path):
    """``pipelinekit serve`` in a child process, polling every 0.2 s; yields (process, address, base path)."""
    base = str(tmp_path / "half")
    push_version(base, 1)
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, "--model_name=half", f"--model_base_path={base}", "--port=0",
         "--rest_api_port=0", "--file_system_poll_wait_seconds=0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    line = process.stdout.readline() if process.stdout else ""
    if not line.startswith("Serving"):
        process.kill()
        pytest.fail(f"the server did not start: {line!r}")
    address = line.split("gRPC ")[1].split(",")[0].strip()
    yield process, address, base
    process.terminate()
    assert process.wait(timeout=60) == 0


class _Clients:
    """CLIENTS threads sending Predict without pause until stopped; counts answers and failures."""

    def __init__(self, address: str) -> None:
        self._channel = grpc.insecure_channel(address)
        self._request = predict_pb2.PredictRequest()
        self._request.model_spec.name = "half"
        self._request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([[1.0], [2.0]], dtype=np.float32)))
        self._stop = threading.Event()
        self.answers = 0
        self.failures: list[str] = []
        self.versions: set[int] = set()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(CLIENTS)]

    def _run(self) -> None:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        while not self._stop.is_set():
            try:
                response = stub.Predict(self._request, timeout=10)
            except grpc.RpcError as exc:
                with self._lock:
                    self.failures.append(f"{exc.code().name}: {exc.details()}")
                continue
            with self._lock:
                self.answers += 1
                self.versions.add(response.model_spec.version.value)

    def __enter__(self) -> _Clients:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._channel.close()


def test_soak_with_a_swap_fails_no_request_and_keeps_rss_flat(served):
    process, address, base = served
    with _Clients(address) as clients:
        time.sleep(min(2.0, SECONDS / 3))  # warm up: connections, first calls, allocator pools
        before, peak = resident_bytes(process.pid), 0
        start = time.monotonic()
        swapped = False
        while (elapsed := time.monotonic() - start) < SECONDS:
            if not swapped and elapsed >= SECONDS / 2:
                push_version(base, 2)
                swapped = True
            peak = max(peak, resident_bytes(process.pid))
            time.sleep(0.25)
    time.sleep(0.5)
    after = resident_bytes(process.pid)
    mb = 2**20
    print(
        f"\nsoak {SECONDS:.0f} s, {CLIENTS} clients, swap v1->v2 at {SECONDS / 2:.0f} s: "
        f"{clients.answers} requests ({clients.answers / SECONDS:.0f}/s), {len(clients.failures)} failed; "
        f"server RSS before {before / mb:.1f} MB, peak during {peak / mb:.1f} MB, after {after / mb:.1f} MB"
    )
    assert clients.failures == []
    assert clients.versions == {1, 2}
    assert after - before < RSS_GROWTH_BOUND

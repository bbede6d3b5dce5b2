"""Benchmark of the model server: latency and throughput over gRPC and REST versus in-process calls.

    .venv/bin/python bench/serving_bench.py [--seconds 3] [--num_workers 1]

For half_plus_two (tests/data) and a penguin-size Keras 3 model built here (4 float inputs,
16 hidden units, 3 classes), it runs 1 and 8 concurrent clients for ``--seconds`` each:

- in-process: the signature traced into one concrete function and called on prebuilt tensors,
  the fastest call there is (the floor the issue names);
- Servable.run: the server's own model call, in-process (the transports add the rest);
- gRPC (official stubs) and REST (httpx) to ``pipelinekit serve`` in a separate process
  (``--num_workers N``: that server runs N worker processes; each client thread has its own
  connection, so the kernel spreads the clients over the workers);
- gRPC batching: gRPC to a second server with ``--enable_batching`` (up to 8 rows, no added wait).

It prints p50 and p99 latency, requests per second, and each row's throughput and p50
relative to in-process. Client threads share one Python process, so with 8 clients the
client side is part of what is measured; numbers vary a lot on small or busy machines.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HALF_PLUS_TWO = os.path.join(REPO, "tests", "data", "half_plus_two")
PENGUIN_FEATURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
BATCHING_FLAGS = ("--enable_batching", "--max_batch_size=8")
SERVE_SCRIPT = """
import argparse, sys
from pipelinekit.serving.cli import add_serve_arguments, run_serve
parser = argparse.ArgumentParser()
add_serve_arguments(parser)
sys.exit(run_serve(parser.parse_args(sys.argv[1:])))
"""


@dataclass
class Result:
    model: str
    transport: str
    clients: int
    latencies_s: list[float]
    seconds: float

    @property
    def p50_ms(self) -> float:
        return float(np.percentile(self.latencies_s, 50) * 1000)

    @property
    def p99_ms(self) -> float:
        return float(np.percentile(self.latencies_s, 99) * 1000)

    @property
    def rps(self) -> float:
        return len(self.latencies_s) / self.seconds


def build_penguin_model(base_path: str) -> None:
    """A penguin-size Keras 3 classifier, exported as version 1 of ``base_path``."""
    import keras

    inputs = {name: keras.Input(shape=(1,), name=name) for name in PENGUIN_FEATURES}
    hidden = keras.layers.Dense(16, activation="relu")(keras.layers.Concatenate()(list(inputs.values())))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="species")(hidden))
    model.export(os.path.join(base_path, "1"), verbose=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(config_path: str, grpc_port: int, rest_port: int, *extra: str) -> subprocess.Popen:
    argv = [
        f"--model_config_file={config_path}",
        f"--port={grpc_port}",
        f"--rest_api_port={rest_port}",
        *extra,
    ]
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE_SCRIPT, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline()
    if not line.startswith("Serving"):
        process.kill()
        raise RuntimeError(f"the server did not start: {line!r}")
    return process


def run_clients(
    make_call: Callable[[], Callable[[], None]], clients: int, seconds: float
) -> tuple[list[float], float]:
    """Each client thread calls its own ``make_call()`` as fast as it can for ``seconds``."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    calls = [make_call() for _ in range(clients)]
    for call in calls:
        call()  # warm up each connection
    barrier = threading.Barrier(clients + 1)

    def worker(index: int) -> None:
        barrier.wait()
        deadline = time.perf_counter() + seconds
        own = latencies[index]
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            calls[index]()
            own.append(time.perf_counter() - start)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return [x for own in latencies for x in own], time.perf_counter() - started


def in_process_call(path: str, inputs: dict[str, np.ndarray]) -> Callable[[], Callable[[], None]]:
    """The floor: the model's signature traced into one concrete function, called through its flat
    entry point on tensors built once.

    This is the fastest in-process call there is (the server makes the same call, after decoding
    the request), so no transport row can beat it by calling the model differently.
    """
    import tensorflow as tf

    loaded = tf.saved_model.load(path)  # kept referenced below: it owns the model's variables
    signature = loaded.signatures["serving_default"]
    names = sorted(inputs)
    specs = [tf.TensorSpec(None, tf.as_dtype(inputs[name].dtype)) for name in names]
    traced = tf.function(lambda *tensors: signature(**dict(zip(names, tensors))), autograph=False).get_concrete_function(*specs)
    tensors = [tf.constant(inputs[name]) for name in names]
    return lambda: lambda: traced._call_flat(tensors, traced.captured_inputs) and loaded


def servable_call(model: str, path: str, inputs: dict[str, np.ndarray]) -> Callable[[], Callable[[], None]]:
    from pipelinekit.serving.servable import Servable

    servable = Servable(model, 1, path)
    return lambda: lambda: servable.run("", inputs)


def grpc_call(address: str, model: str, inputs: dict[str, np.ndarray]) -> Callable[[], Callable[[], None]]:
    """Each client its own channel and connection (gRPC would share one among a process's channels)."""
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(value))

    def make() -> Callable[[], None]:
        channel = grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        return lambda: stub.Predict(request, timeout=30)

    return make


def rest_call(url: str, model: str, inputs: dict[str, np.ndarray]) -> Callable[[], Callable[[], None]]:
    import httpx

    body = json.dumps({"inputs": {name: value.tolist() for name, value in inputs.items()}}).encode()
    headers = {"content-type": "application/json"}

    def make() -> Callable[[], None]:
        client = httpx.Client(base_url=url, timeout=30)

        def call() -> None:
            client.post(f"/v1/models/{model}:predict", content=body, headers=headers).raise_for_status()

        return call

    return make


def print_table(results: list[Result]) -> None:
    from rich.console import Console
    from rich.table import Table

    floor = {(r.model, r.clients): r for r in results if r.transport == "in-process"}
    table = Table(title="pipelinekit serve: predict latency and throughput (1 example per request)")
    for column in (
        "model",
        "transport",
        "clients",
        "p50 ms",
        "p99 ms",
        "req/s",
        "req/s vs in-process",
        "p50 vs in-process",
    ):
        table.add_column(column, justify="left" if column in ("model", "transport") else "right")
    for r in results:
        base = floor[(r.model, r.clients)]
        table.add_row(
            r.model,
            r.transport,
            str(r.clients),
            f"{r.p50_ms:.2f}",
            f"{r.p99_ms:.2f}",
            f"{r.rps:.0f}",
            f"{r.rps / base.rps:.2f}x",
            f"{r.p50_ms / base.p50_ms:.2f}x",
        )
    Console(width=130).print(table)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=3.0, help="seconds per measurement (default: %(default)s)"
    )
    parser.add_argument(
        "--num_workers",
        type=int,
        default=1,
        help="worker processes of the server the gRPC and REST rows call (default: %(default)s)",
    )
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="serving-bench-")
    try:
        penguin_path = os.path.join(workdir, "penguin")
        build_penguin_model(penguin_path)
        config_path = os.path.join(workdir, "models.config")
        with open(config_path, "w") as handle:
            handle.write(
                f'model_config_list {{ config {{ name: "half_plus_two" base_path: "{HALF_PLUS_TWO}" }} '
                f'config {{ name: "penguin" base_path: "{penguin_path}" }} }}'
            )
        grpc_port, rest_port, batched_port = free_port(), free_port(), free_port()
        servers = [
            start_server(config_path, grpc_port, rest_port, f"--num_workers={args.num_workers}"),
            start_server(config_path, batched_port, 0, *BATCHING_FLAGS),
        ]
        try:
            addresses = {
                "gRPC": f"127.0.0.1:{grpc_port}",
                "REST": f"http://127.0.0.1:{rest_port}",
                "gRPC batching": f"127.0.0.1:{batched_port}",
            }
            results = measure_all(penguin_path, addresses, args.seconds, args.num_workers)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=60)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print_table(results)
    return 0


def measure_all(penguin_path: str, addresses: dict[str, str], seconds: float, num_workers: int) -> list[Result]:
    models = {
        "half_plus_two": (
            os.path.join(HALF_PLUS_TWO, "00000123"),
            {"x": np.array([[1.0]], dtype=np.float32)},
        ),
        "penguin": (
            os.path.join(penguin_path, "1"),
            {name: np.array([[40.0]], dtype=np.float32) for name in PENGUIN_FEATURES},
        ),
    }
    workers = f" x{num_workers}" if num_workers > 1 else ""  # rows of the N-worker server say so
    results = []
    for model, (path, inputs) in models.items():
        transports = {
            "in-process": in_process_call(path, inputs),
            "Servable.run": servable_call(model, path, inputs),
            f"gRPC{workers}": grpc_call(addresses["gRPC"], model, inputs),
            f"REST{workers}": rest_call(addresses["REST"], model, inputs),
            "gRPC batching": grpc_call(addresses["gRPC batching"], model, inputs),
        }
        for clients in (1, 8):
            for transport, make_call in transports.items():
                latencies, elapsed = run_clients(make_call, clients, seconds)
                results.append(Result(model, transport, clients, latencies, elapsed))
                print(
                    f"{model:14} {transport:14} clients={clients}: {len(latencies) / elapsed:8.0f} req/s",
                    flush=True,
                )
    return results


if __name__ == "__main__":
    sys.exit(main())

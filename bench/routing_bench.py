"""Benchmark of routes: the overhead of a route over calling its model directly, and the fallback's tail.

    .venv/bin/python bench/routing_bench.py [--requests 2000]

One in-process server over loopback gRPC serves stable (half_plus_two), canary and slow (a
SavedModel that sleeps 300 ms), built by the route tests' helpers. Requests alternate between the
compared names so drift on a busy machine hits both alike. It prints p50 and p99 of:

- direct: model_spec.name = stable; route: a one-target route to stable; split: a 90/10 split;
  shadow: a route to stable with canary as shadow. Each with its p50 ratio to direct.
- fallback: slow primary, 50 ms deadline, stable as fallback: p50, p99 and max against the deadline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "serving"))

ROUTES = """routes:
  - name: route
    split: [{model: stable}]
  - name: split
    split: [{model: stable, weight: 90}, {model: canary, weight: 10}]
  - name: shadow
    split: [{model: stable}]
    shadows: [{model: canary}]
  - name: fallback
    split: [{model: slow}]
    fallback: {deadline_ms: 50, targets: [{model: stable}]}
"""


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _compare(stub, names: tuple[str, ...], count: int, predict_request) -> None:
    """Alternate requests to ``names``; print each one's p50 and p99 and p50 ratio to the first."""
    requests = {name: predict_request(name) for name in names}
    timings: dict[str, list[float]] = {name: [] for name in names}
    for name in names * 50:  # warm up
        stub.Predict(requests[name])
    for _ in range(count):
        for name in names:
            start = time.perf_counter()
            stub.Predict(requests[name])
            timings[name].append(time.perf_counter() - start)
    base = statistics.median(timings[names[0]])
    for name in names:
        label = "direct" if name == "stable" else name
        p50, p99 = statistics.median(timings[name]), _percentile(timings[name], 0.99)
        print(f"{label:<10} {p50 * 1000:8.3f} {p99 * 1000:8.3f} {p50 / base:13.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per compared name")
    parser.add_argument("--fallback_requests", type=int, default=200)
    args = parser.parse_args()

    import grpc
    from routing_helpers import build_models, model_config, predict_request
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    from pipelinekit.serving import ModelServer, ServerOptions

    root = tempfile.mkdtemp(prefix="routing-bench-")
    routes = os.path.join(root, "routes.yaml")
    with open(routes, "w", encoding="utf-8") as handle:
        handle.write(ROUTES)
    options = ServerOptions(
        config=model_config(build_models(root)), grpc_port=0, rest_port=None, route_config_file=routes
    )
    with ModelServer(options) as server:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(server.grpc_address))
        print(f"{'call':<10} {'p50 ms':>8} {'p99 ms':>8} {'p50 / direct':>13}")
        # Shadows work after the answer, on other threads: measured apart, so that work does not
        # land on the next request of the other names.
        for names in (("stable", "route", "split"), ("stable", "shadow")):
            _compare(stub, names, args.requests, predict_request)
        fallback = []
        request = predict_request("fallback")
        for _ in range(args.fallback_requests):
            start = time.perf_counter()
            stub.Predict(request)
            fallback.append((time.perf_counter() - start) * 1000)
        print(
            f"fallback (deadline 50 ms, primary sleeps 300 ms): p50 {statistics.median(fallback):.1f} ms, "
            f"p99 {_percentile(fallback, 0.99):.1f} ms, max {max(fallback):.1f} ms"
        )


if __name__ == "__main__":
    main()

"""Benchmark of routes: the overhead of a route over calling its model directly, and the fallback's tail.

    .venv/bin/python bench/routing_bench.py [--requests 2000]

One in-process server over loopback gRPC serves stable (half_plus_two), canary and slow (a
SavedModel that sleeps 300 ms), built by the route tests' helpers. Requests alternate between the
compared names so drift on a busy machine hits both alike. It prints p50 and p99 of:

- direct: model_spec.name = stable; route: a one-target route to stable; split: a 90/10 split;
  shadow: a route to stable with canary as shadow (against direct, in alternating blocks of 25).
  Each with its p50 ratio to direct.
- fallback: slow primary, 50 ms deadline, stable as fallback: p50, p99 and max against the deadline,
  with direct calls to stable interleaved (the machine's own jitter) and the garbage collections
  over 5 ms seen meanwhile (a collection stops every thread). ``--gc_freeze`` calls ``gc.freeze()``
  once the server is up, so the collections skip the objects loading made.
"""

from __future__ import annotations

import argparse
import gc
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


def _compare(stub, names: tuple[str, ...], count: int, predict_request, block: int = 1) -> None:
    """Alternate requests to ``names`` in blocks of ``block``; print each one's p50 and p99 and
    p50 ratio to the first."""
    requests = {name: predict_request(name) for name in names}
    timings: dict[str, list[float]] = {name: [] for name in names}
    for name in names * 50:  # warm up
        stub.Predict(requests[name])
    for _ in range(count // block):
        for name in names:
            for _ in range(block):
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
    parser.add_argument("--gc_freeze", action="store_true", help="gc.freeze() once the server is up")
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
        _compare(stub, ("stable", "route", "split"), args.requests, predict_request)
        # A shadow's copy runs after the answer, on other threads: in blocks of 25, so that its work
        # weighs on the shadowed requests that follow, not on the direct ones.
        _compare(stub, ("stable", "shadow"), args.requests, predict_request, block=25)
        _fallback(stub, args.fallback_requests, args.gc_freeze, predict_request)


def _fallback(stub, count: int, freeze: bool, predict_request) -> None:
    """The fallback's latency, direct calls to its model interleaved, and the long collections meanwhile."""
    requests = {name: predict_request(name) for name in ("fallback", "stable")}
    for _ in range(3):  # the slow model's first call instantiates its function
        stub.Predict(requests["fallback"])
    if freeze:
        gc.collect()
        gc.freeze()
    pauses: list[float] = []
    started = [0.0]

    def watch(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        elif (ms := (time.perf_counter() - started[0]) * 1000) > 5:
            pauses.append(round(ms))

    gc.callbacks.append(watch)
    timings: dict[str, list[float]] = {name: [] for name in requests}
    for _ in range(count):
        for name, request in requests.items():
            start = time.perf_counter()
            stub.Predict(request)
            timings[name].append((time.perf_counter() - start) * 1000)
    gc.callbacks.remove(watch)
    fallback, direct = timings["fallback"], timings["stable"]
    print(
        f"fallback (deadline 50 ms, primary sleeps 300 ms{', gc frozen' if freeze else ''}): "
        f"p50 {statistics.median(fallback):.1f} ms, p99 {_percentile(fallback, 0.99):.1f} ms, max {max(fallback):.1f} ms, "
        f"over 55 ms {sum(t > 55 for t in fallback)} of {count}; direct p50 {statistics.median(direct):.2f} ms, "
        f"p99 {_percentile(direct, 0.99):.2f} ms; collections over 5 ms: {pauses or 'none'}"
    )


if __name__ == "__main__":
    main()

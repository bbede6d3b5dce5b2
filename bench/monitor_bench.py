"""Monitor benchmarks: a window over N logged requests x 20 features (time, and statistics against
TFDV's own on the same examples), replayed windows of an unchanged model (share flagged) and of a
drifted stream (windows until flagged), and the review queue's cost on the request path (p99).

Logs are written as the server writes them (PredictionLog + tf.Example files, gzipped TFRecords).
Usage: .venv/bin/python bench/monitor_bench.py [--requests N] [--windows N] [--window_size N]
       [--review_requests N] [--check_tfdv] [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

NUMERIC = 16
CATEGORIES = ["red", "green", "blue", "cyan", "magenta", "yellow"]


def features(rng: np.random.Generator, rows: int, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """16 numeric features (normal, each its own mean and scale; ``shift`` moves three of them)
    and 4 categorical ones (skewed choice of 6 colours)."""
    means, scales = np.arange(NUMERIC) * 0.5, 1.0 + np.arange(NUMERIC) * 0.1
    numeric = rng.normal(means, scales, size=(rows, NUMERIC))
    numeric[:, :3] += shift * scales[:3]
    weights = np.array([0.35, 0.25, 0.15, 0.1, 0.1, 0.05])
    categorical = rng.choice(len(CATEGORIES), size=(rows, 4), p=weights)
    return numeric, categorical


def write_logs(folder: str, model: str, numeric: np.ndarray, categorical: np.ndarray, per_file: int, start_id: int = 0) -> None:
    """PredictionLog files (one Classify request per row, version 1) and the matching examples files."""
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    day = time.strftime("%Y%m%d", time.gmtime())
    logs = os.path.join(folder, model, "prediction_logs", day)
    examples = os.path.join(folder, model, "examples", day)
    os.makedirs(logs, exist_ok=True)
    os.makedirs(examples, exist_ok=True)
    colour = [c.encode() for c in CATEGORIES]
    logit = numeric[:, :3] @ np.array([0.3, -0.2, 0.1])
    probability = 1 / (1 + np.exp(-logit))
    now = int(time.time())
    for first in range(0, len(numeric), per_file):
        name = f"part-{first:09d}-0-{start_id + first}.tfrecord.gz"
        with (
            tf.io.TFRecordWriter(os.path.join(logs, name), "GZIP") as log_file,
            tf.io.TFRecordWriter(os.path.join(examples, name), "GZIP") as example_file,
        ):
            for row in range(first, min(first + per_file, len(numeric))):
                log = prediction_log_pb2.PredictionLog()
                log.log_metadata.model_spec.name = model
                log.log_metadata.model_spec.version.value = 1
                log.log_metadata.timestamp_secs = now
                log.log_metadata.request_origin = f"x-request-id:r{start_id + row}"
                entry = log.classify_log
                example = entry.request.input.example_list.examples.add()
                for index in range(NUMERIC):
                    example.features.feature[f"n{index}"].float_list.value.append(numeric[row, index])
                for index in range(4):
                    example.features.feature[f"c{index}"].bytes_list.value.append(colour[categorical[row, index]])
                entry.response.model_spec.CopyFrom(log.log_metadata.model_spec)
                classes = entry.response.result.classifications.add()
                classes.classes.add(label="0", score=1 - probability[row])
                classes.classes.add(label="1", score=probability[row])
                log_file.write(log.SerializeToString())
                example_file.write(example.SerializeToString())


def baseline(folder: str, rng: np.random.Generator, rows: int) -> tuple[str, str]:
    import tensorflow as tf
    import tensorflow_data_validation as tfdv
    from pipelinekit.components.util.tfdv_io import write_schema, write_stats

    from pipelinekit.monitor.statistics import statistics_of_examples

    numeric, categorical = features(rng, rows)
    records = []
    for row in range(rows):
        example = tf.train.Example()
        for index in range(NUMERIC):
            example.features.feature[f"n{index}"].float_list.value.append(numeric[row, index])
        for index in range(4):
            example.features.feature[f"c{index}"].bytes_list.value.append(CATEGORIES[categorical[row, index]].encode())
        records.append(example.SerializeToString())
    stats = statistics_of_examples(records)
    path = os.path.join(folder, "baseline", "FeatureStats.pb")
    write_stats(stats, path)
    return path, write_schema(tfdv.infer_schema(stats), os.path.join(folder, "baseline"))


def config(folder: str, stats: str, schema: str, state: str):  # type: ignore[no-untyped-def]
    from pipelinekit.monitor.config import load_config

    path = os.path.join(folder, f"{state}.yaml")
    with open(path, "w") as handle:
        handle.write(
            f"model: bench\nlog_dir: logs\nstate_dir: {state}\nbaselines: {{'*': {{statistics: {stats}, schema: {schema}}}}}\n"
        )
    return load_config(path)


def big_window(folder: str, requests: int, check_tfdv: bool) -> None:
    from pipelinekit.monitor.window import run_window

    rng = np.random.default_rng(0)
    stats, schema = baseline(folder, rng, 20_000)
    started = time.perf_counter()
    numeric, categorical = features(rng, requests)
    write_logs(os.path.join(folder, "logs"), "bench", numeric, categorical, per_file=50_000)
    written = time.perf_counter() - started
    load = os.getloadavg()[0]
    started = time.perf_counter()
    report = run_window(config(folder, stats, schema, "big"))
    took = time.perf_counter() - started
    print(f"window: {report.requests} requests x 20 features in {took:.1f} s ({report.requests / took:,.0f}/s); "
          f"writing the logs took {written:.1f} s; load {load:.1f}")  # fmt: skip
    started = time.perf_counter()
    _reference_statistics(os.path.join(folder, "logs", "bench", "examples"))
    reference = time.perf_counter() - started
    print(f"reference, StatisticsGen's in-process path (tfx-bsl decoder, TFDV in memory) on the logged examples files "
          f"alone: {reference:.1f} s; the window took {took / reference:.2f}x that; load {os.getloadavg()[0]:.1f}")  # fmt: skip
    if check_tfdv:
        import glob

        import tensorflow_data_validation as tfdv

        started = time.perf_counter()
        reference = tfdv.generate_statistics_from_tfrecord(os.path.join(folder, "logs", "bench", "examples", "*", "*.gz"))
        print(f"TFDV's generate_statistics_from_tfrecord on the examples files: {time.perf_counter() - started:.1f} s")
        [ours_path] = glob.glob(os.path.join(folder, "big", "windows", "1", "bench_1", "statistics", "Split-served", "*.pb"))
        print("statistics equal to TFDV's:", _same_statistics(tfdv.load_stats_binary(ours_path), reference))


def _reference_statistics(folder: str):  # type: ignore[no-untyped-def]
    import glob

    import tensorflow as tf
    import tensorflow_data_validation as tfdv
    from pipelinekit.components.statistics_gen.executor import statistics_of_record_batch
    from pipelinekit.components.util.examples_io import decode_examples

    def chunks():  # type: ignore[no-untyped-def]
        for path in sorted(glob.glob(os.path.join(folder, "*", "*.gz"))):
            for chunk in tf.data.TFRecordDataset(path, compression_type="GZIP").batch(4096):
                yield list(chunk.numpy())

    return statistics_of_record_batch(decode_examples(chunks()), tfdv.StatsOptions())


def _same_statistics(ours, reference) -> str:  # type: ignore[no-untyped-def]
    """Counts, means, deviations, minima, maxima, zeros and category counts, feature by feature."""
    a, b = ours.datasets[0], reference.datasets[0]
    if a.num_examples != b.num_examples:
        return f"no: {a.num_examples} != {b.num_examples} examples"
    by_name = {".".join(f.path.step): f for f in b.features}
    for feature in a.features:
        other = by_name[".".join(feature.path.step)]
        if feature.HasField("num_stats"):
            x, y = feature.num_stats, other.num_stats
            pairs = [(x.mean, y.mean), (x.std_dev, y.std_dev), (x.min, y.min), (x.max, y.max), (x.num_zeros, y.num_zeros),
                     (x.common_stats.num_non_missing, y.common_stats.num_non_missing)]  # fmt: skip
        else:
            x, y = feature.string_stats, other.string_stats
            pairs = [(x.unique, y.unique), (x.common_stats.num_non_missing, y.common_stats.num_non_missing)]
            pairs += [
                (a_.frequency, b_.frequency)
                for a_, b_ in zip(sorted(x.top_values, key=lambda v: v.value), sorted(y.top_values, key=lambda v: v.value))
            ]
        for mine, theirs in pairs:
            if not np.isclose(mine, theirs, rtol=1e-9, atol=1e-9):
                return f"no: feature {'.'.join(feature.path.step)}: {mine} != {theirs}"
    return f"yes ({len(a.features)} features)"


def replay(folder: str, windows: int, window_size: int) -> None:
    from pipelinekit.monitor.window import run_window

    rng = np.random.default_rng(1)
    stats, schema = baseline(folder, rng, 20_000)
    settings = config(folder, stats, schema, "replay")
    flagged = 0
    for window in range(windows):
        numeric, categorical = features(rng, window_size)
        write_logs(
            os.path.join(folder, "logs"), "bench", numeric, categorical, per_file=window_size, start_id=window * window_size
        )
        values = run_window(settings).versions["bench/1"]
        flagged += values["skew_features"] > 0 or values["drift_features"] > 0
    print(f"unchanged model: {flagged} of {windows} windows of {window_size} requests flagged ({flagged / windows:.1%})")
    for shift in (0.5, 1.0):
        numeric, categorical = features(rng, window_size, shift=shift)
        write_logs(
            os.path.join(folder, "logs"),
            "bench",
            numeric,
            categorical,
            per_file=window_size,
            start_id=(windows + 10) * window_size * (1 + int(shift * 10)),
        )
        values = run_window(settings).versions["bench/1"]
        print(f"drifted stream (3 of 20 features shifted by {shift} sd): flagged in the first window: "
              f"{values['skew_features'] > 0}, skewed features {values['skew_features']:.0f}")  # fmt: skip


def review_overhead(folder: str, requests: int) -> None:
    """p99 of gRPC Predict through a route without and with a review option that queues every answer."""
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests", "serving"))
    from routing_helpers import build_models, model_config

    from pipelinekit.serving import ModelServer, ServerOptions

    os.makedirs(folder, exist_ok=True)
    routes = os.path.join(folder, "routes.yaml")
    with open(routes, "w") as handle:
        handle.write(f"routes:\n  - name: plain\n    split: [{{model: stable}}]\n  - name: reviewed\n    split: [{{model: stable}}]\n"
                     f"    review: {{below: 1000, queue_dir: {folder}/review}}\n")  # fmt: skip
    server = ModelServer(ServerOptions(config=model_config(build_models(os.path.join(folder, "models"))), grpc_port=0, rest_port=0,
                                       route_config_file=routes)).start()  # fmt: skip
    stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(server.grpc_address))
    times: dict[str, list[float]] = {"plain": [], "reviewed": []}
    request = predict_pb2.PredictRequest()
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([[1.0]], np.float32)))
    for index in range(requests * 2 + 200):
        route = "plain" if index % 2 else "reviewed"
        request.model_spec.name = route
        started = time.perf_counter()
        stub.Predict(request)
        if index >= 200:  # warm-up
            times[route].append((time.perf_counter() - started) * 1000)
    server.stop(grace_s=1)
    p99 = {route: float(np.percentile(values, 99)) for route, values in times.items()}
    p50 = {route: float(np.percentile(values, 50)) for route, values in times.items()}
    print(f"review queue: p99 {p99['reviewed']:.2f} ms with (every answer queued) vs {p99['plain']:.2f} ms without "
          f"(+{p99['reviewed'] - p99['plain']:.2f} ms); p50 {p50['reviewed']:.2f} vs {p50['plain']:.2f} ms; "
          f"{server.review.queued} queued; {requests} requests each, interleaved")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--windows", type=int, default=100)
    parser.add_argument("--window_size", type=int, default=2_000)
    parser.add_argument("--review_requests", type=int, default=3_000)
    parser.add_argument(
        "--check_tfdv", action="store_true", help="also compare with tfdv.generate_statistics_from_tfrecord (Beam: slow)"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, to check that the benchmark runs")
    parser.add_argument("--only", choices=["window", "replay", "review"], help="run one part")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.windows, args.window_size, args.review_requests = 20_000, 5, 1_000, 300
    print(f"load before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        if args.only in (None, "window"):
            big_window(os.path.join(folder, "big"), args.requests, args.check_tfdv)
        if args.only in (None, "replay"):
            replay(os.path.join(folder, "replay"), args.windows, args.window_size)
        if args.only in (None, "review"):
            review_overhead(os.path.join(folder, "review"), args.review_requests)


if __name__ == "__main__":
    main()

"""The monitoring loop on the penguin model: serve it, replay a stream that drifts, let the monitor
send the route to its fallback, bring the labels, and write them as a span ExampleGen reads.

    python examples/monitoring/closed_loop.py /tmp/loop     # runs the penguin pipeline first (minutes)

Steps (each prints a line):
1. the penguin pipeline trains and pushes a model (examples/penguin/pipeline.py);
2. a server serves it as ``penguin`` and, as the route's fallback, as ``penguin_fallback`` (in
   production the fallback is the previous or a simpler model), with request logs and the admin API;
3. the labelled penguins are replayed through route ``penguin_live``, each request with its id;
   the second half drifts (heavier birds with longer flippers);
4. ``pipelinekit monitor`` (here: its window function) judges each half against the pipeline's
   training statistics and schema; the drifted half trips the rule and the monitor switches the
   route to its fallback through the admin API;
5. the species labels arrive, keyed by request id; the monitor joins them and writes span 1;
6. ImportExampleGen with ``span-{SPAN}/*`` reads the span: the next training run's input.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import random
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
PENGUIN = os.path.join(HERE, os.pardir, "penguin")
NUMBERS = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")


def train(root: str) -> None:
    """Step 1: the penguin pipeline, through the CLI."""
    env = {**os.environ, "PENGUIN_ROOT": root, "PENGUIN_TRAIN_STEPS": os.environ.get("PENGUIN_TRAIN_STEPS", "120")}
    subprocess.run([sys.executable, "-m", "pipelinekit", "run", os.path.join(PENGUIN, "pipeline.py")], env=env, check=True)


def penguins() -> list[dict[str, Any]]:
    """The labelled rows without missing values, as CsvExampleGen types them, in a fixed shuffled
    order (the file is sorted by species: its first half alone would rightly count as skewed)."""
    rows = []
    with open(os.path.join(PENGUIN, "data", "labelled", "penguins.csv")) as handle:
        for row in csv.DictReader(handle):
            if any(value in ("", "NA") for value in row.values()):
                continue
            rows.append({**row, **{k: float(row[k]) for k in NUMBERS}, "year": int(row["year"])})
    random.Random(0).shuffle(rows)
    return rows


def serve(root: str) -> Any:
    """Step 2: the server, with route penguin_live (penguin, fallback penguin_fallback)."""
    from pipelinekit.serving import ModelServer, ServerOptions
    from pipelinekit.serving.model_config import ModelServerConfig

    config = ModelServerConfig()
    for name in ("penguin", "penguin_fallback"):
        entry = config.model_config_list.config.add()
        entry.name, entry.base_path, entry.model_platform = name, os.path.join(root, "serving_model", "penguin"), "tensorflow"
    routes = os.path.join(root, "routes.yaml")
    with open(routes, "w") as handle:
        handle.write("routes:\n  - name: penguin_live\n    split: [{model: penguin}]\n"
                     "    fallback: {deadline_ms: 5000, targets: [{model: penguin_fallback}]}\n")  # fmt: skip
    server = ModelServer(ServerOptions(config=config, grpc_port=0, rest_port=0, route_config_file=routes, admin_port=0,
                                       admin_token_file=os.path.join(root, "admin.token"),
                                       request_log_dir=os.path.join(root, "request_logs"))).start()  # fmt: skip
    server.request_log._max_age_s = 0.5  # complete log files quickly (the default is a minute)
    return server


def replay(server: Any, rows: list[dict[str, Any]], first_id: int) -> list[str]:
    """Step 3: one Predict per row through the route, with request ids; which model answered."""
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    sys.path.insert(0, PENGUIN)
    from predict import serialized_example

    stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(server.grpc_address))
    answered = []
    for index, row in enumerate(rows):
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "penguin_live"
        features = {k: v for k, v in row.items() if k != "species"}
        request.inputs["examples"].CopyFrom(tf.make_tensor_proto([serialized_example(features)], dtype=tf.string))
        response = stub.Predict(request, metadata=(("x-request-id", f"penguin-{first_id + index}"),))
        answered.append(response.model_spec.name)
    return answered


def drifted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**row, "body_mass_g": row["body_mass_g"] * 1.4, "flipper_length_mm": row["flipper_length_mm"] + 25} for row in rows]


def policy(root: str, server: Any) -> str:
    """The monitor's policy: the pipeline's training statistics and schema as baseline."""
    [statistics] = glob.glob(os.path.join(root, "StatisticsGen", "statistics", "*", "Split-train", "FeatureStats.pb"))
    [schema] = glob.glob(os.path.join(root, "SchemaGen", "schema", "*", "schema.pbtxt"))
    path = os.path.join(root, "monitor.yaml")
    with open(path, "w") as handle:
        handle.write(f"""model: penguin_live
log_dir: request_logs
state_dir: monitor
baselines: {{"*": {{statistics: {statistics}, schema: {schema}}}}}
labels: {{path: labels, id_key: request_id, label_key: species}}
feedback: {{base: feedback, label_feature: species}}
admin: {{port: {server.admin.port}, token_file: admin.token, route: penguin_live}}
rules:
  - {{name: inputs drifted, metric: skew_features, above: 0, min_requests: 50, action: fallback}}
""")
    return path


def wait_for_logs(root: str, count: int, timeout_s: float = 30) -> None:
    import tensorflow as tf

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        files = glob.glob(os.path.join(root, "request_logs", "penguin_live", "prediction_logs", "*", "part-*.gz"))
        if sum(1 for f in files for _ in tf.data.TFRecordDataset(f, compression_type="GZIP")) >= count:
            return
        time.sleep(0.3)
    raise TimeoutError(f"fewer than {count} logged requests after {timeout_s} s")


def main(root: str, skip_training: bool = False) -> dict[str, Any]:
    from pipelinekit.monitor.config import load_config
    from pipelinekit.monitor.window import run_window

    os.makedirs(root, exist_ok=True)
    if not skip_training:
        train(root)
    server = serve(root)
    try:
        rows = penguins()
        half = len(rows) // 2
        outcome: dict[str, Any] = {"clean_answered_by": sorted(set(replay(server, rows[:half], 0)))}
        wait_for_logs(root, half)
        config = load_config(policy(root, server))
        clean = run_window(config)
        outcome["clean"] = {"versions": clean.versions, "actions": clean.actions}
        print(f"clean half: {clean.requests} requests, skewed features {clean.drifted}, actions {clean.actions}", flush=True)
        replay(server, drifted(rows[half:]), half)
        wait_for_logs(root, len(rows))
        drift = run_window(config)
        outcome["drifted"] = {"versions": drift.versions, "drifted": drift.drifted, "actions": drift.actions}
        print(
            f"drifted half: skewed features {drift.drifted}; actions {[(a['action'], a['outcome']) for a in drift.actions]}",
            flush=True,
        )
        outcome["after_answered_by"] = sorted(set(replay(server, rows[:5], len(rows))))
        print(f"the route now answers with {outcome['after_answered_by']}", flush=True)
        os.makedirs(os.path.join(root, "labels"), exist_ok=True)
        with open(os.path.join(root, "labels", "species.jsonl"), "w") as handle:  # the labels come in
            for index, row in enumerate(rows):
                handle.write(json.dumps({"request_id": f"penguin-{index}", "species": row["species"]}) + "\n")
        labeled = run_window(config)
        outcome["labels"], outcome["span"] = labeled.labels, labeled.span
        print(f"labels: {labeled.labels}; span written: {labeled.span}", flush=True)
    finally:
        server.stop(grace_s=1)
    outcome["retraining_input_rows"] = read_span(root)
    print(f"ImportExampleGen read {outcome['retraining_input_rows']} labelled rows of span 1", flush=True)
    return outcome


def read_span(root: str) -> int:
    """Step 6: the span as the next run's ExampleGen reads it."""
    from pipelinekit.components import ImportExampleGen

    from pipelinekit import LocalDagRunner, Pipeline
    from pipelinekit.tfx import proto

    node = ImportExampleGen(input_base=os.path.join(root, "feedback"),
                            input_config=proto.Input(splits=[proto.Input.Split(name="train", pattern="span-{SPAN}/*")]))  # fmt: skip
    result = LocalDagRunner().run(Pipeline("retrain_input", os.path.join(root, "retrain"), [node]))
    examples = result.output("ImportExampleGen", "examples")
    import tensorflow as tf

    return sum(1 for split in examples.splits for path in glob.glob(os.path.join(examples.split_uri(split), "*"))
               for _ in tf.data.TFRecordDataset(path, compression_type="GZIP"))  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "loop_root"))

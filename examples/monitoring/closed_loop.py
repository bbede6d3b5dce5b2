"""The whole loop on the penguin model: serve it, replay a stream that drifts, let the monitor send
the route to its fallback, bring the labels as a span, retrain on it, and roll the new version out
through a 10% canary to production.

    python examples/monitoring/closed_loop.py /tmp/loop     # trains the penguin pipeline twice (minutes)

Steps (each prints a line):
1. the penguin pipeline trains and pushes a model (examples/penguin/pipeline.py); the registry
   registers it and ``production`` names it;
2. a server serves ``penguin`` following the registry's aliases and, as the route's fallback,
   ``penguin_fallback`` (the same first version; in production the previous or a simpler model),
   with request logs and the admin API; route ``penguin_live`` sends everything to
   ``penguin@production``;
3. the labelled penguins are replayed through the route, each request with its id; the second
   half drifts (heavier birds with longer flippers);
4. ``pipelinekit monitor`` (here: its window function) judges each half against the pipeline's
   training statistics and schema; the drifted half trips the rule and the monitor switches the
   route to its fallback through the admin API;
5. the species labels arrive, keyed by request id; the monitor joins them and writes span 1;
6. the pipeline runs again with ``PENGUIN_FEEDBACK_BASE``: ImportExampleGen reads ``span-{SPAN}/*``,
   the Evaluator blesses the new model against the current one (and the accuracy threshold), the
   Pusher pushes it and the registry registers it, trained on the feedback span;
7. ``canary`` names the new version; the route file gets a ``penguin@canary`` target and the admin
   API sets the weights to 90/10, as ``pipelinekit route set-weights`` would;
8. the drifted stream goes through the route; the server's metrics show the canary's answers,
   with no error;
9. ``pipelinekit models alias penguin production <version>`` promotes it; the admin API and the
   route file put the whole route back on ``penguin@production``, which now answers with it.
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


def train(root: str, feedback_base: str | None = None) -> None:
    """Steps 1 and 6: the penguin pipeline, through the CLI; on the feedback spans when given, with
    the first run's schema kept (a span need not hold every kind of row the model must take)."""
    env = {**os.environ, "PENGUIN_ROOT": root, "PENGUIN_TRAIN_STEPS": os.environ.get("PENGUIN_TRAIN_STEPS", "120")}
    if feedback_base:
        env["PENGUIN_FEEDBACK_BASE"], env["PENGUIN_SCHEMA_FILE"] = feedback_base, first_run_schema(root)
    subprocess.run([sys.executable, "-m", "pipelinekit", "run", os.path.join(PENGUIN, "pipeline.py")], env=env, check=True)


def penguins() -> list[dict[str, Any]]:
    """The labelled rows with their measurements, as CsvExampleGen types them (a missing ``sex`` is
    left out of the example, as CsvExampleGen leaves it empty: the retrained model must take such
    requests too), in a fixed shuffled order (the file is sorted by species: its first half alone
    would rightly count as skewed)."""
    rows = []
    with open(os.path.join(PENGUIN, "data", "labelled", "penguins.csv")) as handle:
        for row in csv.DictReader(handle):
            if any(row[k] in ("", "NA") for k in NUMBERS):
                continue
            present = {k: v for k, v in row.items() if v not in ("", "NA")}
            rows.append({**present, **{k: float(row[k]) for k in NUMBERS}, "year": int(row["year"])})
    random.Random(0).shuffle(rows)
    return rows


ROUTE = "penguin_live"
FALLBACK = "    fallback: {deadline_ms: 5000, targets: [{model: penguin_fallback}]}\n"


def write_routes(root: str, canary_weight: float | None = None) -> str:
    """The route file: everything to ``penguin@production``; with a canary weight, a second target."""
    path = os.path.join(root, "routes.yaml")
    split = "{model: penguin, label: production, weight: 100}"
    if canary_weight is not None:
        split += f", {{model: penguin, label: canary, weight: {canary_weight}}}"
    with open(path + ".tmp", "w") as handle:
        handle.write(f"routes:\n  - name: {ROUTE}\n    split: [{split}]\n{FALLBACK}")
    os.replace(path + ".tmp", path)  # the server's watcher never reads half a file
    return path


def serve(root: str, first_version: int) -> Any:
    """Step 2: the server, following the registry's aliases, with route penguin_live."""
    from pipelinekit.serving import ModelServer, ServerOptions
    from pipelinekit.serving.model_config import ModelServerConfig

    config = ModelServerConfig()
    for name in ("penguin", "penguin_fallback"):
        entry = config.model_config_list.config.add()
        entry.name, entry.base_path, entry.model_platform = name, os.path.join(root, "serving_model", "penguin"), "tensorflow"
        entry.model_version_policy.specific.versions.append(first_version)  # a new push waits for its alias
    server = ModelServer(ServerOptions(config=config, grpc_port=0, rest_port=0, route_config_file=write_routes(root),
                                       route_poll_wait_seconds=0.2, admin_port=0,
                                       admin_token_file=os.path.join(root, "admin.token"),
                                       registry_metadata_path=os.path.join(root, "metadata.sqlite"),
                                       registry_poll_wait_seconds=0.5,
                                       request_log_dir=os.path.join(root, "request_logs"))).start()  # fmt: skip
    server.request_log._max_age_s = 0.5  # complete log files quickly (the default is a minute)
    return server


def replay(server: Any, rows: list[dict[str, Any]], first_id: int, name: str = ROUTE, label: str = "") -> list[tuple[str, int]]:
    """Step 3: one Predict per row through the route (or model ``name`` at version ``label``),
    with request ids; which model and version answered each."""
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    if PENGUIN not in sys.path:
        sys.path.insert(0, PENGUIN)
    from predict import serialized_example

    stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(server.grpc_address))
    answered = []
    for index, row in enumerate(rows):
        request = predict_pb2.PredictRequest()
        request.model_spec.name = name
        if label:
            request.model_spec.version_label = label
        features = {k: v for k, v in row.items() if k != "species"}
        request.inputs["examples"].CopyFrom(tf.make_tensor_proto([serialized_example(features)], dtype=tf.string))
        response = stub.Predict(request, metadata=(("x-request-id", f"penguin-{first_id + index}"),))
        answered.append((response.model_spec.name, response.model_spec.version.value))
    return answered


def drifted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**row, "body_mass_g": row["body_mass_g"] * 1.4, "flipper_length_mm": row["flipper_length_mm"] + 25} for row in rows]


def policy(root: str, server: Any) -> str:
    """The monitor's policy: the pipeline's training statistics and schema as baseline."""
    [statistics] = glob.glob(os.path.join(root, "StatisticsGen", "statistics", "*", "Split-train", "FeatureStats.pb"))
    schema = first_run_schema(root)
    path = os.path.join(root, "monitor.yaml")
    with open(path, "w") as handle:
        handle.write(f"""model: {ROUTE}
log_dir: request_logs
state_dir: monitor
baselines: {{"*": {{statistics: {statistics}, schema: {schema}}}}}
labels: {{path: labels, id_key: request_id, label_key: species}}
feedback: {{base: feedback, label_feature: species}}
admin: {{port: {server.admin.port}, token_file: admin.token, route: {ROUTE}}}
rules:
  - {{name: inputs drifted, metric: skew_features, above: 0, min_requests: 50, action: fallback}}
""")
    return path


def first_run_schema(root: str) -> str:
    """The schema SchemaGen inferred in the first run (the retrain imports it)."""
    [schema] = glob.glob(os.path.join(root, "SchemaGen", "schema", "*", "schema.pbtxt"))
    return schema


def wait_for_logs(root: str, count: int, timeout_s: float = 30) -> None:
    import tensorflow as tf

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        files = glob.glob(os.path.join(root, "request_logs", ROUTE, "prediction_logs", "*", "part-*.gz"))
        if sum(1 for f in files for _ in tf.data.TFRecordDataset(f, compression_type="GZIP")) >= count:
            return
        time.sleep(0.3)
    raise TimeoutError(f"fewer than {count} logged requests after {timeout_s} s")


def say(step: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {step}", flush=True)


def main(root: str, canary_requests: int = 600) -> dict[str, Any]:
    from pipelinekit.monitor.config import load_config
    from pipelinekit.monitor.window import run_window
    from pipelinekit.registry import PRODUCTION, Registry
    from pipelinekit.serving.admin_client import AdminClient

    os.makedirs(root, exist_ok=True)
    train(root)
    registry = Registry.open(os.path.join(root, "metadata.sqlite"))
    first = registry.resolve("penguin")
    registry.move_alias("penguin", PRODUCTION, first.number, reason="first release")
    say(f"1. trained and pushed {first}; production = version {first.number}")
    server = serve(root, first.number)
    admin = AdminClient(server.admin.port, os.path.join(root, "admin.token"), who="closed_loop example")
    outcome: dict[str, Any] = {"first_version": first.number}
    try:
        say(f"2. serving route {ROUTE} -> penguin@production, fallback penguin_fallback")
        rows = penguins()
        half = len(rows) // 2
        outcome["clean_answered_by"] = sorted(set(replay(server, rows[:half], 0)))
        wait_for_logs(root, half)
        config = load_config(policy(root, server))
        clean = run_window(config)
        outcome["clean"] = {"versions": clean.versions, "actions": clean.actions}
        say(f"3. clean half: {clean.requests} requests, skewed features {clean.drifted}, actions {clean.actions}")
        replay(server, drifted(rows[half:]), half)
        wait_for_logs(root, len(rows))
        drift = run_window(config)
        outcome["drifted"] = {"versions": drift.versions, "drifted": drift.drifted, "actions": drift.actions}
        say(f"4. drifted half: skewed features {drift.drifted}; actions {[(a['action'], a['outcome']) for a in drift.actions]}")
        outcome["after_answered_by"] = sorted(set(replay(server, rows[:5], len(rows))))
        say(f"   the route now answers with {outcome['after_answered_by']}")
        os.makedirs(os.path.join(root, "labels"), exist_ok=True)
        with open(os.path.join(root, "labels", "species.jsonl"), "w") as handle:  # the labels come in
            for index, row in enumerate(rows):
                handle.write(json.dumps({"request_id": f"penguin-{index}", "species": row["species"]}) + "\n")
        labeled = run_window(config)
        outcome["labels"], outcome["span"] = labeled.labels, labeled.span
        say(f"5. labels: {labeled.labels}; span written: {labeled.span}")

        train(root, feedback_base=os.path.join(root, "feedback"))  # the server keeps serving meanwhile
        registry.sync()
        new = registry.resolve("penguin")
        outcome["new_version"] = {"number": new.number, "semver": new.semver, "raw_examples": new.raw_examples,
                                  "blessed": new.record.get("blessed"), "blessing_reason": new.record.get("blessing_reason"),
                                  "metrics": new.record.get("metrics")}  # fmt: skip
        outcome["retraining_input_rows"] = count_examples(new.raw_examples)
        spans = [f"{e['node']} span {e['span']:.0f}" for e in new.raw_examples]
        say(f"6. retrained on {spans} ({outcome['retraining_input_rows']} rows); "
            f"Evaluator: blessed={new.record.get('blessed')} ({new.record.get('blessing_reason')}), "
            f"metrics {new.record.get('metrics')}; pushed and registered as {new}")  # fmt: skip

        registry.move_alias("penguin", "canary", new.number, reason="retrained on the feedback span")
        wait_for_label(server, "canary", new.number)
        write_routes(root, canary_weight=0)
        wait_for_route(admin, "penguin@canary")
        admin.call("POST", f"/routes/{ROUTE}/weights", {"weights": {"penguin@production": 90, "penguin@canary": 10}})
        say(f"7. canary = version {new.number}; route {ROUTE}: penguin@production 90, penguin@canary 10")

        before = route_calls(server)
        stream = drifted(rows)
        answers = replay(server, [stream[i % len(stream)] for i in range(canary_requests)], 10_000)
        calls = {k: v - before.get(k, 0) for k, v in route_calls(server).items()}
        outcome["canary"] = {"requests": canary_requests, "answered_by_new": sum(1 for _, v in answers if v == new.number),
                             "answered_by_first": sum(1 for _, v in answers if v == first.number), "calls": calls}  # fmt: skip
        errors = {k: v for k, v in calls.items() if k[1] != "OK" and v}
        say(
            f"8. {outcome['canary']['answered_by_new']} of {canary_requests} requests answered by the canary; "
            f"server metrics per (target, status): {calls}; errors: {errors or 'none'}"
        )
        if errors:
            raise RuntimeError(f"the canary had errors {errors}; not promoting (roll back: pipelinekit route rollback {ROUTE})")

        promote = [sys.executable, "-m", "pipelinekit", "models", "alias", "penguin", PRODUCTION, str(new.number),
                   "--reason", f"canary: {outcome['canary']['answered_by_new']} answers, no errors",
                   "--metadata", os.path.join(root, "metadata.sqlite")]  # fmt: skip
        subprocess.run(promote, check=True)
        wait_for_label(server, PRODUCTION, new.number)
        admin.call("POST", f"/routes/{ROUTE}/promote", {"target": "penguin@production"})
        write_routes(root)  # the outcome, written into the route file
        wait_for_route(admin, "penguin@canary", present=False)
        outcome["production"] = registry.resolve(f"penguin@{PRODUCTION}").number
        outcome["production_label_answers"] = sorted(set(replay(server, rows[:20], 20_000, name="penguin", label=PRODUCTION)))
        outcome["route_after_promotion"] = sorted(set(replay(server, rows[:50], 30_000)))
        say(f"9. production = version {outcome['production']}; penguin@production answers with "
            f"{outcome['production_label_answers']}, route {ROUTE} with {outcome['route_after_promotion']}")  # fmt: skip
    finally:
        server.stop(grace_s=1)
    return outcome


def wait_for_label(server: Any, label: str, version: int, timeout_s: float = 60) -> None:
    """Until the server answers ``penguin`` at ``label`` with ``version`` (it follows the registry)."""
    rows = penguins()[:1]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if replay(server, rows, 0, name="penguin", label=label) == [("penguin", version)]:
                return
        except Exception:  # noqa: BLE001 - grpc's NOT_FOUND while the label does not exist yet
            pass
        time.sleep(0.3)
    raise TimeoutError(f"penguin@{label} did not answer with version {version} within {timeout_s} s")


def wait_for_route(admin: Any, target: str, present: bool = True, timeout_s: float = 30) -> None:
    """Until the server's route (read back through the admin API) has, or no longer has, ``target``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (target in json.dumps(admin.call("GET", "/routes")["routes"][ROUTE])) == present:
            return
        time.sleep(0.2)
    raise TimeoutError(f"the route file change did not reach route {ROUTE} within {timeout_s} s")


def route_calls(server: Any) -> dict[tuple[str, str], float]:
    """The server's ``pipelinekit_route_target_calls_total`` for the route, per (target, status),
    read from its Prometheus exposition as a scraper would."""
    from prometheus_client.parser import text_string_to_metric_families

    calls = {}
    for family in text_string_to_metric_families(server.metrics.render().decode()):
        for sample in family.samples:
            if sample.name == "pipelinekit_route_target_calls_total" and sample.labels["route"] == ROUTE:
                calls[(sample.labels["target"], sample.labels["status"])] = sample.value
    return calls


def count_examples(raw_examples: list[dict[str, Any]]) -> int:
    """The rows of the raw Examples a version trained on, every split."""
    import tensorflow as tf

    return sum(1 for e in raw_examples for path in glob.glob(os.path.join(e["uri"], "Split-*", "*"))
               for _ in tf.data.TFRecordDataset(path, compression_type="GZIP"))  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "loop_root"))

"""Request ids end to end, and the monitor acting on a live server through its admin API: a drifted
stream sends the route to its fallback, recorded as done by the monitor; a person's override stands."""

from __future__ import annotations

import glob
import json
import os
import time
import urllib.request

import grpc
import numpy as np
import pytest
from routing_helpers import answered_y, build_models, model_config, offset_of, predict_request
from tensorflow_serving.apis import prediction_log_pb2, prediction_service_pb2_grpc

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env(tmp_path_factory, start_server):
    root = str(tmp_path_factory.mktemp("monitored"))
    routes_file = os.path.join(root, "routes.yaml")
    with open(routes_file, "w", encoding="utf-8") as handle:
        handle.write(
            "routes:\n  - name: live\n    split: [{model: stable}]\n    fallback: {deadline_ms: 2000, targets: [{model: canary}]}\n"
        )
    server = start_server(
        model_config(build_models(root)),
        route_config_file=routes_file,
        admin_port=0,
        admin_token_file=os.path.join(root, "admin.token"),
        route_metadata_path=os.path.join(root, "metadata.sqlite"),
        request_log_dir=os.path.join(root, "logs"),
    )
    server.request_log._max_age_s = 0.2  # complete log files within a second (default: a minute)
    channel = grpc.insecure_channel(server.grpc_address)
    yield {"server": server, "root": root, "stub": prediction_service_pb2_grpc.PredictionServiceStub(channel)}
    channel.close()


def _send(env, xs, ids=None) -> list[float]:
    offsets = []
    for i, x in enumerate(xs):
        metadata = (("x-request-id", ids[i]),) if ids else ()
        response = env["stub"].Predict(predict_request("live", float(x)), metadata=metadata)
        offsets.append(offset_of(answered_y(response), float(x)))
    return offsets


def _wait_for_logs(env, count: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        files = glob.glob(os.path.join(env["root"], "logs", "live", "prediction_logs", "*", "part-*.gz"))
        import tensorflow as tf

        if sum(1 for f in files for _ in tf.data.TFRecordDataset(f, compression_type="GZIP")) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} logged requests after 15 s")


def test_request_ids_are_answered_and_logged(env):
    import tensorflow as tf

    call = env["stub"].Predict.with_call(predict_request("live", 1.0), metadata=(("x-request-id", "client-42"),))
    assert ("x-request-id", "client-42") in call[1].trailing_metadata()
    made = dict(env["stub"].Predict.with_call(predict_request("live", 1.0))[1].trailing_metadata())["x-request-id"]
    assert len(made) == 32
    body = json.dumps({"instances": [[1.0]]}).encode()
    request = urllib.request.Request(f"{env['server'].rest_url}/v1/models/live:predict", body, headers={"X-Request-Id": "rest-7"})
    with urllib.request.urlopen(request) as reply:
        assert reply.headers["x-request-id"] == "rest-7"
    _wait_for_logs(env, 3)
    logged = {}
    for path in glob.glob(os.path.join(env["root"], "logs", "live", "prediction_logs", "*", "part-*.gz")):
        for data in tf.data.TFRecordDataset(path, compression_type="GZIP").as_numpy_iterator():
            log = prediction_log_pb2.PredictionLog.FromString(data)
            logged[log.log_metadata.request_origin] = log.log_metadata
    assert {"x-request-id:client-42", f"x-request-id:{made}", "x-request-id:rest-7"} <= set(logged)
    meta = logged["x-request-id:client-42"]
    assert (meta.model_spec.name, meta.model_spec.version.value) == ("stable", 1) and meta.timestamp_secs > 0


def test_a_drifted_stream_sends_the_route_to_its_fallback_and_a_person_override_stands(env, tmp_path):
    import tensorflow as tf
    import tensorflow_data_validation as tfdv
    from pipelinekit.components.util.tfdv_io import write_schema, write_stats

    from pipelinekit.cli import main as cli_main
    from pipelinekit.monitor.config import load_config
    from pipelinekit.monitor.lineage import MonitorRecorder
    from pipelinekit.monitor.statistics import statistics_of_examples
    from pipelinekit.monitor.window import run_window
    from pipelinekit.serving.route_records import RouteChangeRecorder

    rng = np.random.default_rng(0)
    training = []
    for x in rng.normal(0, 1, 500):
        example = tf.train.Example()
        example.features.feature["x"].float_list.value.append(float(x))
        training.append(example.SerializeToString())
    stats = statistics_of_examples(training)
    write_stats(stats, str(tmp_path / "stats" / "FeatureStats.pb"))
    write_schema(tfdv.infer_schema(stats), str(tmp_path / "schema"))
    server = env["server"]
    config = load_config(
        str(tmp_path / "policy.yaml")
        if (tmp_path / "policy.yaml").write_text(f"""
model: live
log_dir: {env["root"]}/logs
state_dir: state
baselines: {{"*": {{statistics: stats/FeatureStats.pb, schema: schema/schema.pbtxt}}}}
admin: {{port: {server.admin.port}, token_file: {server.options.admin_token_file}, route: live}}
rules:
  - {{name: inputs drifted, metric: skew_features, above: 0, min_requests: 40, action: fallback}}
""")
        else ""
    )
    run_window(config)  # the requests of the test above: too few to judge
    assert set(_send(env, rng.normal(0, 1, 60))) == {2.0}  # stable answers
    _wait_for_logs(env, 63)
    quiet = run_window(config)
    assert quiet.versions["stable/1"]["skew_features"] == 0 and quiet.actions == []

    assert set(_send(env, rng.normal(3, 1, 60))) == {2.0}  # the inputs drift
    _wait_for_logs(env, 123)
    drifted = run_window(config)
    assert [(a["action"], a["outcome"], a["switched_off"]) for a in drifted.actions] == [("fallback", "switched off", ["stable"])]
    assert set(_send(env, [0.5] * 5)) == {3.0}  # the fallback (canary) answers now
    changes = RouteChangeRecorder(server.options.route_metadata_path).changes("live")
    assert (changes[0].properties["who"], changes[0].properties["action"]) == ("monitor", "disable")
    [action] = MonitorRecorder(config.metadata, "live").executions("MonitorAction")
    assert action.properties["who"] == "monitor" and action.properties["action"] == "fallback"

    # a person switches stable back on; more drifted traffic: the monitor leaves the person's change
    assert cli_main(["route", "--admin_port", str(server.admin.port), "--admin_token_file", server.options.admin_token_file,
                     "promote", "live", "stable"]) == 0  # fmt: skip
    assert set(_send(env, rng.normal(3, 1, 60))) == {2.0}
    _wait_for_logs(env, 188)
    after = run_window(config)
    assert after.actions == [] and after.versions["stable/1"]["skew_features"] > 0
    assert set(_send(env, [0.5] * 3)) == {2.0}  # still on, as the person left it

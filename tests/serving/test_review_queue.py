"""A route's review option: low-confidence answers go to a JSON-lines queue and Label Studio tasks,
with their request ids, while the caller gets the answer."""

from __future__ import annotations

import glob
import json
import os
import time
import urllib.request

import grpc
import pytest
from routing_helpers import answered_y, build_models, model_config, predict_request
from tensorflow_serving.apis import prediction_service_pb2_grpc

from pipelinekit.serving.routes import RouteConfigError, parse_routes


@pytest.mark.slow
def test_answers_below_the_confidence_are_queued_for_review(tmp_path, start_server):
    queue_dir = tmp_path / "review"
    routes = tmp_path / "routes.yaml"
    routes.write_text(f"routes:\n  - name: live\n    split: [{{model: stable}}]\n"
                      f"    review: {{below: 2.5, by: top_probability, queue_dir: {queue_dir}}}\n")  # fmt: skip
    server = start_server(model_config(build_models(str(tmp_path / "models"))), route_config_file=str(routes))
    stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(server.grpc_address))
    answers = [
        answered_y(stub.Predict(predict_request("live", x), metadata=(("x-request-id", f"id-{x}"),))) for x in (0.0, 4.0, 0.5)
    ]
    assert answers == [2.0, 4.0, 2.25]  # every caller gets its answer
    body = json.dumps({"instances": [[0.2]]}).encode()
    request = urllib.request.Request(f"{server.rest_url}/v1/models/live:predict", body, headers={"x-request-id": "rest-1"})
    urllib.request.urlopen(request).read()
    deadline = time.monotonic() + 10
    while server.review.queued < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    server.review.close()  # writes what is queued
    [queue_file] = glob.glob(str(queue_dir / "live" / "queue-*.jsonl"))
    items = [json.loads(line) for line in open(queue_file)]
    assert sorted(i["request_id"] for i in items) == ["id-0.0", "id-0.5", "rest-1"]
    item = next(i for i in items if i["request_id"] == "id-0.5")
    assert item["confidence"] == pytest.approx(2.25) and item["model"] == "stable" and item["version"] == 1
    assert item["inputs"] == {"x": [[0.5]]}
    tasks = [t for path in glob.glob(str(queue_dir / "live" / "label-studio" / "tasks-*.json")) for t in json.load(open(path))]
    assert sorted(t["data"]["request_id"] for t in tasks) == ["id-0.0", "id-0.5", "rest-1"]
    assert not glob.glob(str(queue_dir / "**" / ".*partial"), recursive=True)
    assert os.path.isdir(queue_dir)


@pytest.mark.parametrize(
    ("review", "message"),
    [
        ("{below: 0.5}", "review needs below .* and queue_dir"),
        ("{below: .nan, queue_dir: q}", "review below is '.nan'; expected a finite number"),
        ("{below: 0.5, queue_dir: q, by: loudness}", "expected top_probability, margin or module:function"),
        ("{below: 0.5, queue_dir: q, colour: red}", "unknown field 'colour'"),
    ],
)
def test_a_bad_review_option_is_refused_with_its_line(review, message):
    with pytest.raises(RouteConfigError, match=message):
        parse_routes(f"routes:\n  - name: live\n    split: [{{model: stable}}]\n    review: {review}\n", "routes.yaml")


GATE = None  # set by the test below: the writer's confidence function waits on it


def gated_confidence(row):
    GATE.wait(10)
    return 0.0


def test_a_full_queue_drops_and_counts_without_waiting_and_close_writes_the_rest(tmp_path, caplog):
    import threading

    import numpy as np
    from tensorflow_serving.apis import model_pb2

    from pipelinekit.serving.review_queue import ReviewQueue
    from pipelinekit.serving.routes import Review

    global GATE
    GATE = threading.Event()
    review = Review(below=0.5, queue_dir=str(tmp_path), by=f"{__name__}:gated_confidence")
    queue = ReviewQueue(lambda route: review if route == "live" else None, max_queue=3)
    spec = model_pb2.ModelSpec(name="m")
    answer = ({"y": np.array([[0.3, 0.7]])}, spec)
    started = time.perf_counter()
    for _ in range(10):  # three wait (and perhaps one more the writer took already); the rest are dropped
        queue.offer("live", {"x": np.array([[1.0]])}, answer)
    queue.offer("other", {}, answer)  # no review option: not queued
    assert time.perf_counter() - started < 1.0  # offering never waited for the blocked writer
    assert queue.dropped in (6, 7) and "review queue full" in caplog.text
    GATE.set()
    queue.close()
    [path] = glob.glob(str(tmp_path / "live" / "queue-*.jsonl"))
    assert len(open(path).readlines()) == 10 - queue.dropped == queue.queued  # nothing queued is lost

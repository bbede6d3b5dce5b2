"""``pipelinekit serve --num_workers N``: real worker processes sharing the ports, one model lifecycle.

One 2-worker server serves most tests, in order: both workers answer; a new version under 4
clients (no request for a version some worker reported AVAILABLE fails); a config reload sent to
one worker reaches both; a worker killed with SIGKILL is restarted; a failed load shows in every
worker's status; SIGTERM lets a running request finish and stops everything. Servers of their
own: a polled config file and a supervisor killed with SIGKILL; start failures (exit 2).
``PIPELINEKIT_WORKERS_LONG=1`` pushes more versions under load and runs the clients longer.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import grpc
import httpx
import numpy as np
import pytest
import tensorflow as tf
from serving_helpers import HALF_PLUS_TWO, BackgroundThreads, push_version, save_slow_model, wait_for
from tensorflow_serving.apis import (
    get_model_status_pb2,
    model_management_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)
from test_serving_cli_batching import SERVE_SCRIPT, parse

import pipelinekit
from pipelinekit.serving.cli import _server_options
from pipelinekit.serving.errors import ModelConfigError
from pipelinekit.serving.model_config import read_model_config_file

pytestmark = pytest.mark.slow

LONG = os.environ.get("PIPELINEKIT_WORKERS_LONG") == "1"
PUSHES = 4 if LONG else 1
SETTLE_S = 5.0 if LONG else 1.5  # client traffic after each new version is reported AVAILABLE
# Each channel its own connections: gRPC otherwise shares one connection among a process's channels.
OWN_CONNECTION = [("grpc.use_local_subchannel_pool", 1)]


def test_num_workers_below_one_is_a_clear_error():
    with pytest.raises(ModelConfigError, match="--num_workers must be at least 1, got 0"):
        _server_options(parse([f"--model_base_path={HALF_PLUS_TWO}", "--num_workers=0"]))


def test_the_admin_api_is_refused_with_several_workers():
    argv = [f"--model_base_path={HALF_PLUS_TWO}", "--num_workers=2", "--admin_port=0", "--admin_token_file=t"]
    with pytest.raises(ModelConfigError, match="--admin_port cannot be used with --num_workers above 1"):
        _server_options(parse(argv))


def test_request_log_files_name_the_worker(tmp_path):
    import datetime

    from pipelinekit.serving.metrics import ServerMetrics
    from pipelinekit.serving.request_log import RequestLog

    log = RequestLog(str(tmp_path), 1.0, ServerMetrics(dict, bool).request_log, worker=3)
    try:
        name = os.path.basename(log._file("m", "examples", datetime.date.today()).path)
    finally:
        log.close()
    assert re.fullmatch(rf"part-\d{{6}}-w3-{os.getpid()}-\d+\.tfrecord\.gz", name), name


@dataclass
class Served:
    process: subprocess.Popen
    address: str
    rest_url: str
    base: str
    config_path: str
    log_path: str

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8") as handle:
            return handle.read()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(argv: list[str], log_path: str) -> subprocess.Popen:
    """``pipelinekit serve`` in a child process, this worktree first on its PYTHONPATH."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(pipelinekit.__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])])}
    with open(log_path, "w") as log:
        return subprocess.Popen(
            [sys.executable, "-c", SERVE_SCRIPT, *argv], stdout=subprocess.PIPE, stderr=log, text=True, env=env
        )


def write_config(path: str, bases: dict[str, str], policy: str) -> str:
    """A model config file serving each model of ``bases`` from its base path, with the version ``policy``."""
    configs = " ".join(
        f'config {{ name: "{name}" base_path: "{base}" model_version_policy {{ {policy} }} }}'
        for name, base in bases.items()
    )
    with open(path, "w") as handle:
        handle.write(f"model_config_list {{ {configs} }}")
    return path


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    """Two workers serving ``half`` (all versions; its base path polled every 0.2 s) and ``slow``."""
    root = tmp_path_factory.mktemp("workers")
    base = str(root / "half")
    push_version(base, 1)
    save_slow_model(str(root / "slow" / "1"))
    config_path = write_config(str(root / "models.config"), {"half": base, "slow": str(root / "slow")}, "all {}")
    rest_port = free_port()
    log_path = str(root / "serve.log")
    argv = [f"--model_config_file={config_path}", "--port=0", f"--rest_api_port={rest_port}", "--num_workers=2",
            "--file_system_poll_wait_seconds=0.2", "--max_num_load_retries=0"]  # fmt: skip
    process = serve(argv, log_path)
    line = process.stdout.readline() if process.stdout else ""
    if not line.startswith("Serving ['half', 'slow']: gRPC 127.0.0.1:"):
        process.kill()
        pytest.fail(f"the server did not start: {line!r}\n{open(log_path).read()}")
    address = line.split("gRPC ")[1].split(",")[0].strip()
    assert f"REST http://127.0.0.1:{rest_port}" in line
    yield Served(process, address, f"http://127.0.0.1:{rest_port}", base, config_path, log_path)
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)


def predict_request(version: int | None = None) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "half"
    if version is not None:
        request.model_spec.version.value = version
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([[1.0]], dtype=np.float32)))
    return request


def statuses(address: str, model: str = "half") -> dict[int, str]:
    """Version to state, from whichever worker a new connection reaches."""
    with grpc.insecure_channel(address, options=OWN_CONNECTION) as channel:
        request = get_model_status_pb2.GetModelStatusRequest()
        request.model_spec.name = model
        response = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(request, timeout=10)
    names = get_model_status_pb2.ModelVersionStatus.State
    return {s.version: names.Name(s.state) for s in response.model_version_status}


def scrape(rest_url: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """One scrape on a new connection: metric sample name -> sorted labels -> value."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(f"{rest_url}/monitoring/prometheus/metrics", timeout=10).text  # a new connection each
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def predicts_by_worker(samples: dict[str, dict[tuple[tuple[str, str], ...], float]]) -> dict[str, float]:
    """Worker index to its count of successful grpc.Predict calls of model 'half'."""
    counts = samples.get("pipelinekit_serving_requests_total", {})
    wanted = {("api", "grpc.Predict"), ("model", "half"), ("status", "OK")}
    return {dict(labels)["worker"]: value for labels, value in counts.items() if wanted <= set(labels)}


def worker_pids(rest_url: str, tries: int = 40) -> set[str]:
    """The pids of the workers that answer scrapes on new connections, until both did."""
    pids: set[str] = set()
    for _ in range(tries):
        answering = scrape(rest_url)["pipelinekit_serving_worker"]
        assert len(answering) == 1, answering  # the one worker that answered
        pids.add(dict(next(iter(answering)))["pid"])
        if len(pids) == 2:
            break
    return pids


def test_both_workers_answer_and_any_scrape_counts_both(served):
    before = predicts_by_worker(scrape(served.rest_url))
    for _ in range(16):  # each channel its own connection; the kernel spreads them over the workers
        with grpc.insecure_channel(served.address, options=OWN_CONNECTION) as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            for _ in range(3):
                response = stub.Predict(predict_request(), timeout=10)
                assert tf.make_ndarray(response.outputs["y"]).tolist() == [[2.5]]
    assert len(worker_pids(served.rest_url)) == 2
    for _ in range(4):  # whichever worker answers the scrape, it reports every worker's figures
        after = predicts_by_worker(scrape(served.rest_url))
        assert sorted(after) == ["0", "1"] and all(after[w] > before.get(w, 0) for w in after), (before, after)
        assert sum(after.values()) - sum(before.values()) == 48


@dataclass
class Traffic:
    """4 client threads: 2 ask for the latest version, 2 for the newest version any worker reported AVAILABLE."""

    address: str
    available: set[int] = field(default_factory=set)  # versions some worker reported AVAILABLE
    failures: list[str] = field(default_factory=list)
    answers: dict[str, int] = field(default_factory=lambda: {"latest": 0, "explicit": 0})

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        clients = [functools.partial(self._clients, kind) for kind in ("latest", "explicit") * 2]
        self.threads = BackgroundThreads(self._statuses, *clients)
        self.stop = self.threads.stop

    def _statuses(self) -> None:
        while not self.stop.wait(0.05):
            seen = {v for v, state in statuses(self.address).items() if state == "AVAILABLE"}
            with self._lock:
                self.available |= seen

    def _clients(self, kind: str) -> None:
        while not self.stop.is_set():  # a new connection every 10 requests, so both workers get them
            with grpc.insecure_channel(self.address, options=OWN_CONNECTION) as channel:
                stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
                for _ in range(10):
                    with self._lock:
                        version = max(self.available) if kind == "explicit" and self.available else None
                    try:
                        stub.Predict(predict_request(version), timeout=10)
                    except grpc.RpcError as exc:
                        with self._lock:
                            self.failures.append(f"{kind} v{version}: {exc.code().name}: {exc.details()}")
                        continue
                    with self._lock:
                        self.answers[kind] += 1


def test_new_versions_under_load_fail_no_request_for_a_version_reported_available(served):
    traffic = Traffic(served.address)
    with traffic.threads:
        time.sleep(0.5)
        for version in range(2, 2 + PUSHES):
            push_version(served.base, version)
            wait_for(lambda v=version: v in traffic.available, what=f"version {version} AVAILABLE")
            time.sleep(SETTLE_S)
    print(f"\n{traffic.answers} answers, {len(traffic.failures)} failures; AVAILABLE seen: {sorted(traffic.available)}")
    assert traffic.failures == []
    assert traffic.answers["explicit"] > 0 and traffic.answers["latest"] > 0
    newest = 1 + PUSHES
    for _ in range(8):  # every worker publishes every version (policy: all)
        assert statuses(served.address) == {v: "AVAILABLE" for v in range(1, newest + 1)}


def test_a_config_reload_sent_to_one_worker_reaches_every_worker(served):
    newest = 1 + PUSHES
    bases = {"half": served.base, "slow": os.path.join(os.path.dirname(served.base), "slow")}
    request = model_management_pb2.ReloadConfigRequest(
        config=read_model_config_file(write_config(served.config_path, bases, "latest { num_versions: 1 }"))
    )
    with grpc.insecure_channel(served.address, options=OWN_CONNECTION) as channel:
        model_service_pb2_grpc.ModelServiceStub(channel).HandleReloadConfigRequest(request, timeout=60)
    for _ in range(8):  # whichever worker answers: only the newest version serves
        assert statuses(served.address) == {newest: "AVAILABLE", **{v: "END" for v in range(1, newest)}}
        with grpc.insecure_channel(served.address, options=OWN_CONNECTION) as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            assert stub.Predict(predict_request(), timeout=10).model_spec.version.value == newest
            with pytest.raises(grpc.RpcError) as error:
                stub.Predict(predict_request(1), timeout=10)
            assert error.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_killed_worker_is_restarted_with_the_serving_versions(served):
    before = worker_pids(served.rest_url)
    assert len(before) == 2
    victim = int(min(before))
    counted = sum(predicts_by_worker(scrape(served.rest_url)).values())
    failures: list[str] = []
    outcomes = {"answers": 0, "retried": 0}

    def client() -> None:
        while not clients.stop.is_set():
            with grpc.insecure_channel(served.address, options=OWN_CONNECTION) as channel:
                stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
                for _ in range(5):
                    try:
                        stub.Predict(predict_request(), timeout=10)
                    except grpc.RpcError as exc:
                        if exc.code() != grpc.StatusCode.UNAVAILABLE:  # a connection the killed worker held
                            failures.append(f"{exc.code().name}: {exc.details()}")
                        outcomes["retried"] += 1
                        break  # retry on a new connection
                    outcomes["answers"] += 1

    clients = BackgroundThreads(client, client)
    with clients:
        time.sleep(0.3)
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: re.search(rf"worker \d \(pid {victim}\) exited with signal SIGKILL; restarting it", served.log()),
                 what="the restart log line")  # fmt: skip
        wait_for(lambda: "restarted (pid" in served.log(), timeout_s=60, what="the new worker")
        answered = outcomes["answers"]
        wait_for(lambda: outcomes["answers"] > answered + 20, what="answers after the restart")
    print(f"\n{outcomes} while worker pid {victim} was killed and restarted")
    assert failures == []
    after = worker_pids(served.rest_url)
    assert len(after) == 2 and str(victim) not in after, (before, after)
    # the killed worker's figures stay counted: its metrics files outlive it
    assert sum(predicts_by_worker(scrape(served.rest_url)).values()) >= counted + outcomes["answers"]
    newest = 1 + PUSHES
    for _ in range(8):  # the new worker serves what the others serve, statuses included
        assert statuses(served.address)[newest] == "AVAILABLE"
        with grpc.insecure_channel(served.address, options=OWN_CONNECTION) as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            assert stub.Predict(predict_request(newest), timeout=10).model_spec.version.value == newest


def test_a_failed_load_shows_in_every_workers_status(served):
    newest = 1 + PUSHES
    broken = os.path.join(served.base, "50")
    os.makedirs(broken)
    with open(os.path.join(broken, "saved_model.pb"), "wb") as handle:
        handle.write(b"not a SavedModel")
    wait_for(lambda: statuses(served.address).get(50) == "END", what="the broken version's END")
    for _ in range(8):  # whichever worker answers: the error, and the previous version still serving
        with grpc.insecure_channel(served.address, options=OWN_CONNECTION) as channel:
            request = get_model_status_pb2.GetModelStatusRequest()
            request.model_spec.name = "half"
            response = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(request, timeout=10)
        failed = {s.version: s for s in response.model_version_status}[50]
        assert failed.status.error_code == grpc.StatusCode.DATA_LOSS.value[0]
        assert "cannot read" in failed.status.error_message
        assert statuses(served.address)[newest] == "AVAILABLE"


def test_a_second_server_on_the_ports_of_a_running_one_is_refused(served, tmp_path):
    """SO_REUSEPORT would let a second `serve --num_workers` join the first one's ports and take a
    share of its connections; it must be refused instead, and the first keep serving."""
    port = served.address.rsplit(":", 1)[1]
    log_path = str(tmp_path / "second.log")
    process = serve(
        [f"--model_base_path={HALF_PLUS_TWO}", f"--port={port}", "--rest_api_port=0", "--num_workers=2"], log_path
    )
    assert process.wait(timeout=120) == 2
    assert f"cannot bind the gRPC port at 127.0.0.1:{port}" in open(log_path).read()
    with grpc.insecure_channel(served.address, options=OWN_CONNECTION) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        answer = stub.Predict(predict_request(), timeout=10)
    assert tf.make_ndarray(answer.outputs["y"]).tolist() == [[2.5]]


def test_sigterm_lets_running_requests_finish_stops_every_worker_and_exits_0(served):
    workers = [int(pid) for pid in worker_pids(served.rest_url)]
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "slow"
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([8000.0], dtype=np.float32)))  # about a second
    with grpc.insecure_channel(served.address, options=OWN_CONNECTION) as channel:
        running_request = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict.future(request, timeout=30)
        time.sleep(0.3)
        served.process.send_signal(signal.SIGTERM)
        assert tf.make_ndarray(running_request.result().outputs["y"]).tolist() == [8000.0]
    assert served.process.wait(timeout=60) == 0
    assert [pid for pid in workers if running(pid)] == []


def _worker_processes() -> list[int]:
    """Pids of the worker processes (multiprocessing's spawned children) on this machine."""
    out = subprocess.run(["pgrep", "-f", "multiprocessing.spawn"], capture_output=True, text=True)
    return [int(pid) for pid in out.stdout.split()]


def running(pid: int) -> bool:
    """Whether a process runs (a zombie waiting for its reaper does not)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture()
def polled(tmp_path) -> Iterator[Served]:
    """Two workers serving ``half`` from a config file the supervisor re-reads every 0.2 s."""
    base = str(tmp_path / "half")
    push_version(base, 1)
    config_path = write_config(str(tmp_path / "models.config"), {"half": base}, "all {}")
    rest_port = free_port()
    log_path = str(tmp_path / "serve.log")
    argv = [f"--model_config_file={config_path}", "--model_config_file_poll_wait_seconds=0.2", "--port=0",
            f"--rest_api_port={rest_port}", "--num_workers=2"]  # fmt: skip
    process = serve(argv, log_path)
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line.startswith("Serving"), open(log_path).read()
        address = line.split("gRPC ")[1].split(",")[0].strip()
        yield Served(process, address, f"http://127.0.0.1:{rest_port}", base, config_path, log_path)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def test_a_polled_config_file_reaches_every_worker_and_a_killed_supervisor_leaves_none(polled):
    write_config(polled.config_path, {"half": polled.base, "two": polled.base}, "all {}")

    def served_everywhere() -> bool:
        try:  # 8 new connections: both workers answer
            return all(statuses(polled.address, "two") == {1: "AVAILABLE"} for _ in range(8))
        except grpc.RpcError:  # NOT_FOUND from a worker without the model yet
            return False

    wait_for(served_everywhere, what="model 'two' AVAILABLE in every worker")
    workers = [int(pid) for pid in worker_pids(polled.rest_url)]
    assert len(workers) == 2
    polled.process.kill()
    polled.process.wait(timeout=30)
    wait_for(lambda: not any(running(pid) for pid in workers), timeout_s=30, what="the workers to exit")


def test_a_taken_port_exits_2_before_any_worker_starts(tmp_path):
    log_path = str(tmp_path / "serve.log")
    with socket.socket() as taken:  # another program's listening socket, without SO_REUSEPORT
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = serve(
            [f"--model_base_path={HALF_PLUS_TWO}", f"--port={port}", "--rest_api_port=0", "--num_workers=2"], log_path
        )
        assert process.wait(timeout=120) == 2
    log = open(log_path).read()
    assert f"cannot bind the gRPC port at 127.0.0.1:{port}" in log and "Pick another with --port" in log, log
    assert "worker 0 started" not in log
    assert process.stdout is not None and process.stdout.read() == ""


def test_a_worker_that_cannot_start_stops_the_others_and_exits_2(tmp_path):
    """The route file is read by the workers: a bad one fails them, and the supervisor reports it."""
    routes = tmp_path / "routes.yaml"
    routes.write_text("routes:\n  r:\n    split: {}\n")
    log_path = str(tmp_path / "serve.log")
    argv = [f"--model_base_path={HALF_PLUS_TWO}", "--port=0", "--rest_api_port=0", "--num_workers=2",
            f"--route_config_file={routes}"]  # fmt: skip
    before = set(_worker_processes())
    process = serve(argv, log_path)
    assert process.wait(timeout=120) == 2
    log = open(log_path).read()
    assert re.search(rf"worker \d did not start: {re.escape(str(routes))} has 1 problem", log), log
    wait_for(lambda: not set(_worker_processes()) - before, timeout_s=30, what="the other worker to stop")
    assert process.stdout is not None and process.stdout.read() == ""


def test_a_bad_model_config_with_two_workers_exits_2(tmp_path):
    log_path = str(tmp_path / "serve.log")
    missing = str(tmp_path / "missing")
    process = serve([f"--model_base_path={missing}", "--port=0", "--rest_api_port=0", "--num_workers=2"], log_path)
    assert process.wait(timeout=120) == 2
    assert f"base_path {missing!r} is not a directory" in open(log_path).read()

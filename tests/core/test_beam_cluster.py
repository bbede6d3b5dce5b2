"""A node's Beam job aimed at a cluster (Flink): the addresses are checked before anything is
submitted, a missing --environment_type is refused (Beam would reach for Docker), and the
data work never takes the in-process shortcut. No cluster is needed for these."""

from __future__ import annotations

import socket
import time

import pytest
from pipelinekit.components.util import examples_io
from pipelinekit.components.util.errors import InputDataError

from pipelinekit import ClusterError, DefinitionError
from pipelinekit.dsl.beam_cluster import cluster_target
from pipelinekit.dsl.context import ExecutionContext


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _context(args: list[str]) -> ExecutionContext:
    return ExecutionContext("penguin", "/root", "Transform", "run", 7, "/tmp", args, 100)


def _flink_args(rest: int, job: int, pool: int) -> list[str]:
    return [
        "--runner=FlinkRunner",
        f"--flink_master=localhost:{rest}",
        f"--job_endpoint=localhost:{job}",
        "--environment_type=EXTERNAL",
        f"--environment_config=localhost:{pool}",
    ]


def test_a_cluster_that_is_not_up_is_reported_by_address_within_seconds():
    import apache_beam  # noqa: F401 - imported before the clock starts (seconds on a busy machine)

    port = _free_port()
    started = time.monotonic()
    with pytest.raises(ClusterError) as raised:
        _context(_flink_args(port, port, port)).make_beam_pipeline()
    assert time.monotonic() - started < 10
    message = str(raised.value)
    assert f"--flink_master=localhost:{port} does not answer" in message
    assert "'Transform'" in message and "scripts/flink_cluster.sh start" in message


def test_each_address_is_checked_the_job_server_too():
    with socket.socket() as listening:  # a Flink REST port that answers, a job server that does not
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        rest = listening.getsockname()[1]
        job = _free_port()
        with pytest.raises(ClusterError, match=f"--job_endpoint=localhost:{job} does not answer"):
            _context(_flink_args(rest, job, job)).make_beam_pipeline()


@pytest.mark.parametrize(
    "args, needed",
    [
        (["--runner=FlinkRunner", "--flink_master=localhost:8081"], "--environment_type"),
        (["--runner=PortableRunner", "--job_endpoint=localhost:8099", "--environment_type=EXTERNAL"], "--environment_config"),
    ],
)
def test_a_cluster_runner_without_a_worker_environment_is_refused(args, needed):
    with pytest.raises(DefinitionError, match=needed) as raised:
        cluster_target(args)
    assert "Docker" in str(raised.value) or "worker pool" in str(raised.value)


def test_the_direct_runner_is_no_cluster_and_flink_master_schemes_are_dropped():
    assert cluster_target(["--direct_num_workers=2"]) is None
    assert cluster_target(["--runner=DirectRunner"]) is None
    target = cluster_target(["--runner=FlinkRunner", "--flink_master=http://jm:8081/", "--environment_type=PROCESS"])
    assert target is not None and target.flink_rest == "jm:8081" and target.addresses == {"--flink_master": "jm:8081"}


def test_the_job_is_named_after_pipeline_node_and_execution():
    assert _context([]).job_name == "pipelinekit-penguin-Transform-7"


def test_data_work_always_goes_through_beam_on_another_runner(monkeypatch):
    flink = _context(["--runner=FlinkRunner"])
    monkeypatch.delenv(examples_io.IN_PROCESS_ENV, raising=False)
    assert examples_io.in_process(_context([]), 100) is True
    assert examples_io.in_process(flink, 100) is False
    monkeypatch.setenv(examples_io.IN_PROCESS_ENV, "in_process")
    with pytest.raises(InputDataError, match="contradicts --runner=FlinkRunner"):
        examples_io.in_process(flink, 100)

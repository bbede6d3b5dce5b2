"""Failed loads are retried (--max_num_load_retries, --load_retry_interval_micros); replaced folders reload."""

from __future__ import annotations

import argparse
import os
import shutil
import threading

import pytest
from serving_helpers import HALF_PLUS_TWO_VERSION, wait_for

from pipelinekit.serving import Client, single_model_config
from pipelinekit.serving.cli import _server_options, add_serve_arguments
from pipelinekit.serving.load_retries import LoadRetryPolicy

pytestmark = pytest.mark.slow


def _copy_slowly(target: str, seconds: float) -> threading.Thread:
    """Write a version in place the way a careless copy does: the folder first, saved_model.pb last."""
    os.makedirs(target)
    shutil.copytree(os.path.join(HALF_PLUS_TWO_VERSION, "variables"), os.path.join(target, "variables"))

    def finish() -> None:
        threading.Event().wait(seconds)
        shutil.copy(os.path.join(HALF_PLUS_TWO_VERSION, "saved_model.pb"), target)

    thread = threading.Thread(target=finish)
    thread.start()
    return thread


def _states(client: Client) -> dict[int, tuple[str, str]]:
    return {s.version: (s.state, s.error_code) for s in client.status()}


def test_a_version_caught_half_written_is_retried_until_it_loads(start_server, tmp_path, caplog):
    base = tmp_path / "half"
    writer = _copy_slowly(str(base / "1"), seconds=1.0)
    with caplog.at_level("WARNING", logger="pipelinekit.serving.model_manager"):
        server = start_server(
            single_model_config("half", str(base)),
            poll_wait_seconds=0.1,
            load_retry=LoadRetryPolicy(max_retries=20, interval_s=0.2),
        )
        with Client(server.grpc_address, "half") as client:
            assert _states(client)[1][0] == "LOADING"  # failed once, waiting for its retry
            writer.join()
            wait_for(lambda: _states(client) == {1: ("AVAILABLE", "OK")}, what="the retry to load version 1")
            assert client.predict({"x": [[2.0]]})["y"].tolist() == [[3.0]]
    assert "failed to load (retry 1 of 20" in caplog.text


def test_retries_also_run_when_polling_is_off(start_server, tmp_path):
    base = tmp_path / "half"
    writer = _copy_slowly(str(base / "1"), seconds=0.5)
    server = start_server(
        single_model_config("half", str(base)),
        poll_wait_seconds=0,
        load_retry=LoadRetryPolicy(max_retries=10, interval_s=0.2),
    )
    writer.join()
    with Client(server.grpc_address, "half") as client:
        wait_for(lambda: _states(client) == {1: ("AVAILABLE", "OK")}, what="the retry with polling off")


def test_after_the_last_retry_the_version_ends_and_a_replaced_folder_loads_afresh(start_server, tmp_path):
    base = tmp_path / "half"
    (base / "1").mkdir(parents=True)  # never finished: no saved_model.pb
    server = start_server(
        single_model_config("half", str(base)),
        poll_wait_seconds=0.1,
        load_retry=LoadRetryPolicy(max_retries=2, interval_s=0.05),
    )
    with Client(server.grpc_address, "half") as client:
        wait_for(lambda: _states(client)[1][0] == "END", what="the retries to run out")
        assert _states(client) == {1: ("END", "NOT_FOUND")}
        shutil.rmtree(base / "1")
        shutil.copytree(HALF_PLUS_TWO_VERSION, base / ".staging")
        os.rename(base / ".staging", base / "1")
        wait_for(lambda: _states(client) == {1: ("AVAILABLE", "OK")}, what="the replaced folder to load")


def test_the_retry_flags_reach_the_server_options(tmp_path):
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    args = parser.parse_args(
        ["--model_base_path", str(tmp_path), "--max_num_load_retries=3", "--load_retry_interval_micros=250000"]
    )
    assert _server_options(args).load_retry == LoadRetryPolicy(max_retries=3, interval_s=0.25)
    defaults = _server_options(parser.parse_args(["--model_base_path", str(tmp_path)]))
    assert defaults.load_retry == LoadRetryPolicy(max_retries=5, interval_s=60.0)  # TF Serving's defaults


def test_a_version_waiting_for_a_retry_ends_when_a_newer_one_arrives(start_server, tmp_path):
    base = tmp_path / "half"
    (base / "1").mkdir(parents=True)  # never finished
    server = start_server(
        single_model_config("half", str(base)),
        poll_wait_seconds=0.05,
        load_retry=LoadRetryPolicy(max_retries=1000, interval_s=0.05),
    )
    with Client(server.grpc_address, "half") as client:
        assert _states(client)[1][0] == "LOADING"
        shutil.copytree(HALF_PLUS_TWO_VERSION, base / ".staging")
        os.rename(base / ".staging", base / "2")
        wait_for(lambda: _states(client) == {2: ("AVAILABLE", "OK"), 1: ("END", "CANCELLED")}, what="v1 to end")
    assert server.manager._attempts.next_due() is None  # no retry left to wake the poller for


@pytest.mark.parametrize(
    "flag", ["--max_num_load_retries=-1", "--load_retry_interval_micros=-5", "--max_tensor_bytes=0"]
)
def test_negative_limits_are_refused(tmp_path, flag):
    from pipelinekit.serving.errors import ModelConfigError

    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    with pytest.raises(ModelConfigError, match=flag.split("=")[0]):
        _server_options(parser.parse_args(["--model_base_path", str(tmp_path), flag]))


def test_a_version_waiting_for_a_retry_ends_when_its_folder_is_deleted(start_server, tmp_path):
    base = tmp_path / "half"
    (base / "1").mkdir(parents=True)
    server = start_server(
        single_model_config("half", str(base)),
        poll_wait_seconds=0.05,
        load_retry=LoadRetryPolicy(max_retries=1000, interval_s=0.05),
    )
    with Client(server.grpc_address, "half") as client:
        shutil.rmtree(base / "1")
        wait_for(lambda: _states(client) == {1: ("END", "CANCELLED")}, what="the deleted version to end")

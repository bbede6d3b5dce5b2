"""Parallel trials: one keras-tuner oracle served over gRPC here, N worker processes running
trials against it (keras-tuner's own distributed protocol, ``KERASTUNER_*`` variables)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent import futures
from typing import Any

from pipelinekit.components.trainer.user_code import UserFunctionError
from pipelinekit.components.util.keras3 import keras3_environment

__all__ = ["run_parallel_search"]

WORKER_POLL_S = 0.2


def run_parallel_search(tuner: Any, workers: int, inputs: dict[str, Any], settings: dict[str, Any]) -> None:
    """Serve ``tuner.oracle`` and run ``workers`` processes until the oracle has no trials left."""
    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import OracleServicer

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max(2, workers)))
    protos.get_service_grpc().add_OracleServicer_to_server(OracleServicer(tuner.oracle), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        _run_workers(workers, port, _worker_request(inputs, settings), tuner.oracle)
    finally:
        server.stop(grace=None)
    tuner.oracle.save()


def _worker_request(inputs: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """The inputs as JSON records (a list of them for ``examples``) and the settings."""

    def record(a: Any) -> dict[str, Any]:
        return {"type": a.TYPE_NAME, "uri": a.uri, "properties": a.properties, "custom_properties": a.custom_properties}

    artifacts = {
        key: [record(a) for a in value] if isinstance(value, list) else record(value)
        for key, value in inputs.items()
        if value is not None
    }
    return {"inputs": artifacts, "settings": settings}


def _run_workers(count: int, port: int, request: dict[str, Any], oracle: Any) -> None:
    """Run the workers until all end; the first that fails stops the others and fails the node."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(request, handle)
    processes: list[subprocess.Popen[bytes]] = []
    logs = []
    failed: tuple[int, int, str] | None = None
    try:
        for index in range(count):
            environment = keras3_environment(
                {"KERASTUNER_TUNER_ID": f"tuner{index}", "KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": str(port)}
            )
            log = tempfile.TemporaryFile()
            logs.append(log)
            command = [sys.executable, "-m", "pipelinekit.components.tuner.worker", handle.name, str(os.getpid())]
            processes.append(subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=_root()))
        failed = _first_failure(processes, oracle)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        os.unlink(handle.name)
    if failed is not None:
        index, code, trial = failed
        logs[index].seek(0)
        tail = logs[index].read().decode(errors="replace")[-3000:]
        others = f"; the other {count - 1} worker(s) were stopped" if count > 1 else ""
        raise UserFunctionError(
            f"tuner worker {index} of {count} (KERASTUNER_TUNER_ID=tuner{index}) exited with status {code} {trial}"
            f"{others}; its output ends with:\n{tail}"
        )


def _first_failure(processes: list[subprocess.Popen[bytes]], oracle: Any) -> tuple[int, int, str] | None:
    """Wait until every worker ends or one fails: its index, exit status and what trial it was on."""
    running = dict(enumerate(processes))
    while running:
        for index, process in list(running.items()):
            code = process.poll()
            if code is None:
                continue
            del running[index]
            if code != 0:
                trial = oracle.ongoing_trials.get(f"tuner{index}")
                return index, code, f"while running trial {trial.trial_id}" if trial is not None else "before it took a trial"
        time.sleep(WORKER_POLL_S)
    return None


def _root() -> str:
    """The folder that holds the ``pipelinekit`` package, so workers import the same code."""
    import pipelinekit

    return os.path.dirname(os.path.dirname(os.path.abspath(pipelinekit.__file__)))



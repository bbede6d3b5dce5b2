"""Parallel trials: one keras-tuner oracle served over gRPC here, N worker processes running
trials against it (keras-tuner's own distributed protocol, ``KERASTUNER_*`` variables)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent import futures
from typing import Any

from components.trainer.user_code import UserFunctionError
from components.util.keras3 import keras3_environment

__all__ = ["run_parallel_search"]


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
        _run_workers(workers, port, _worker_request(inputs, settings))
    finally:
        server.stop(grace=None)
    tuner.oracle.save()


def _worker_request(inputs: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    artifacts = {
        key: {"type": a.TYPE_NAME, "uri": a.uri, "properties": a.properties, "custom_properties": a.custom_properties}
        for key, a in inputs.items()
        if a is not None
    }
    return {"inputs": artifacts, "settings": settings}


def _run_workers(count: int, port: int, request: dict[str, Any]) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(request, handle)
    processes = []
    logs = []
    try:
        for index in range(count):
            environment = keras3_environment(
                {"KERASTUNER_TUNER_ID": f"tuner{index}", "KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": str(port)}
            )
            log = tempfile.TemporaryFile()
            logs.append(log)
            command = [sys.executable, "-m", "components.tuner.worker", handle.name, str(os.getpid())]
            processes.append(subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=_root()))
        failures = [(i, p.wait()) for i, p in enumerate(processes)]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        os.unlink(handle.name)
    bad = [(i, code) for i, code in failures if code != 0]
    if bad:
        index, code = bad[0]
        logs[index].seek(0)
        tail = logs[index].read().decode(errors="replace")[-3000:]
        raise UserFunctionError(f"tuner worker {index} of {count} exited with status {code}; its output ends with:\n{tail}")


def _root() -> str:
    """The folder that holds the ``components`` package, so workers import the same code."""
    import components

    return os.path.dirname(os.path.dirname(os.path.abspath(components.__file__)))



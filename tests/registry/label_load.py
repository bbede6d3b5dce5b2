"""Concurrent gRPC clients calling Predict on ``model@label``: what answered, when, how fast.

Shared by the registry's serving tests and ``bench/registry_bench.py`` (rollback under load).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import grpc
import numpy as np
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc


@dataclass
class Answer:
    at: float  # time.monotonic() when the answer came
    seconds: float
    version: int  # -1 for a failed request


@dataclass
class LabelLoad:
    """``clients`` threads, each with its own channel, sending Predict to ``model`` at ``label``
    (or at no label: a route's name) without pause until stopped: ``inputs`` (default half_plus_two's ``{"x": [[1.0]]}``)."""

    address: str
    model: str
    label: str
    clients: int = 8
    inputs: dict[str, Any] | None = None
    answers: list[Answer] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        from tensorflow import make_tensor_proto

        self._request = predict_pb2.PredictRequest()
        self._request.model_spec.name = self.model
        if self.label:
            self._request.model_spec.version_label = self.label
        for name, value in (self.inputs or {"x": np.array([[1.0]], dtype=np.float32)}).items():
            self._request.inputs[name].CopyFrom(make_tensor_proto(value))
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(self.clients)]

    def _client(self) -> None:
        with grpc.insecure_channel(self.address) as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    version = stub.Predict(self._request, timeout=10).model_spec.version.value
                except grpc.RpcError as error:
                    self.failures.append(f"{error.code().name}: {error.details()}")
                    version = -1
                self.answers.append(Answer(time.monotonic(), time.monotonic() - started, version))

    def latest_version(self) -> int:
        return self.answers[-1].version if self.answers else 0

    def wait_for_version(self, version: int, timeout_s: float) -> float:
        """Seconds until every client answers with ``version`` (the latest answer of each window)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            recent = [a.version for a in self.answers[-self.clients :]]
            if len(recent) == self.clients and set(recent) == {version}:
                return time.monotonic() - started
            time.sleep(0.01)
        raise AssertionError(
            f"{self.model}@{self.label} did not answer with version {version} within {timeout_s} s; "
            f"{len(self.failures)} failed requests, the first: {self.failures[:1]}"
        )

    def p99(self, since: float, until: float) -> float:
        latencies = sorted(a.seconds for a in self.answers if since <= a.at <= until)
        return latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan")

    def __enter__(self) -> LabelLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

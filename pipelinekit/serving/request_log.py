"""Request logging in TF Serving's format, written off the request path.

A sampled share of requests (``sample_rate``) is queued (bounded; when full the record is dropped
and counted) for one background writer, which builds ``tensorflow.serving.PredictionLog`` records
and writes them to gzipped TFRecord files, per model and UTC day::

    <log_dir>/<model>/prediction_logs/<YYYYMMDD>/part-<HHMMSS>-<pid>-<n>.tfrecord.gz   PredictionLog
    <log_dir>/<model>/examples/<YYYYMMDD>/part-<HHMMSS>-<pid>-<n>.tfrecord.gz          tf.Example inputs

(``part-<HHMMSS>-w<worker>-<pid>-<n>`` from worker ``<worker>`` of ``serve --num_workers N``.)

A file is written under a hidden name and renamed when complete (after ``max_records`` records,
``max_age_s`` seconds, at the day's end, or at shutdown), so readers only ever see whole files.
The ``examples`` files hold the logged inputs as tf.Examples: Classify and Regress inputs and
Predict string inputs that parse as tf.Example as they are; other Predict inputs (dense tensors,
REST ``instances``) one tf.Example per row of the batch dimension they share, each input a feature
of its name (float_list, int64_list or bytes_list, the row's values flattened).
``tfdv.generate_statistics_from_tfrecord`` reads them as they are, and ImportExampleGen reads a day as a span with the input pattern
``{YYYY}{MM}{DD}/*.gz`` under ``<log_dir>/<model>/examples``.
"""

from __future__ import annotations

import datetime
import itertools
import logging
import os
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import tensorflow as tf
from google.protobuf.message import DecodeError
from tensorflow_serving.apis import (
    classification_pb2,
    model_pb2,
    predict_pb2,
    prediction_log_pb2,
    regression_pb2,
)

from pipelinekit.serving.errors import ModelConfigError
from pipelinekit.serving.inference import with_context
from pipelinekit.serving.metrics import RequestLogMetrics
from pipelinekit.serving.tensors import fill_tensor_proto

__all__ = ["RequestLog"]

logger = logging.getLogger(__name__)

_SEQUENCE = itertools.count()  # one per process: two logs in one process (two servers) never share a name
_Job = tuple[str, datetime.date, Callable[[], prediction_log_pb2.PredictionLog]]


class RequestLog:
    """Samples requests and writes them with one background thread; ``close()`` flushes."""

    def __init__(
        self,
        log_dir: str,
        sample_rate: float,
        metrics: RequestLogMetrics,
        max_queue: int = 1000,
        max_records: int = 10_000,
        max_age_s: float = 60.0,
        worker: int | None = None,
    ) -> None:
        if not 0 <= sample_rate <= 1:
            raise ModelConfigError(f"--request_log_sample_rate must be between 0 and 1, got {sample_rate}")
        self.log_dir = log_dir
        self._rate = sample_rate
        self._metrics = metrics
        self._queue: queue.Queue[_Job | None] = queue.Queue(max_queue)
        self._max_records = max_records
        self._max_age_s = max_age_s
        self._worker = "" if worker is None else f"w{worker}-"
        self._files: dict[tuple[str, str, datetime.date], _File] = {}
        self._thread = threading.Thread(target=self._write_loop, name="pipelinekit-request-log", daemon=True)
        self._thread.start()

    def predict(self, model: str, request: predict_pb2.PredictRequest, response: predict_pb2.PredictResponse) -> None:
        self._submit_pair(model, "predict_log", request, response)

    def predict_arrays(
        self,
        model: str,
        spec: model_pb2.ModelSpec,
        inputs: Mapping[str, np.ndarray],
        answered: model_pb2.ModelSpec,
        outputs: Mapping[str, np.ndarray],
    ) -> None:
        """A REST predict, logged as the PredictRequest and PredictResponse it stands for."""

        def build() -> prediction_log_pb2.PredictionLog:
            log = prediction_log_pb2.PredictionLog()
            log.predict_log.request.model_spec.CopyFrom(spec)
            for name, array in inputs.items():
                fill_tensor_proto(log.predict_log.request.inputs[name], array)
            log.predict_log.response.model_spec.CopyFrom(answered)
            for name, array in outputs.items():
                fill_tensor_proto(log.predict_log.response.outputs[name], array)
            return log

        self._submit(model, build)

    def classify(
        self,
        model: str,
        request: classification_pb2.ClassificationRequest,
        response: classification_pb2.ClassificationResponse,
    ) -> None:
        self._submit_pair(model, "classify_log", request, response)

    def regress(
        self, model: str, request: regression_pb2.RegressionRequest, response: regression_pb2.RegressionResponse
    ) -> None:
        self._submit_pair(model, "regress_log", request, response)

    def _submit_pair(self, model: str, kind: str, request: Any, response: Any) -> None:
        """Log a request and its response under the PredictionLog field ``kind`` (``predict_log``, ...)."""

        def build() -> prediction_log_pb2.PredictionLog:
            log = prediction_log_pb2.PredictionLog()
            entry = getattr(log, kind)
            entry.request.CopyFrom(request)
            entry.response.CopyFrom(response)
            return log

        self._submit(model, build)

    def _submit(self, model: str, build: Callable[[], prediction_log_pb2.PredictionLog]) -> None:
        """Queue one record if sampled; never waits (a full queue drops it, counted)."""
        if self._rate < 1 and random.random() >= self._rate:
            return
        try:
            self._queue.put_nowait((model, datetime.datetime.now(datetime.UTC).date(), build))
        except queue.Full:
            self._metrics.dropped(model)

    def close(self, timeout_s: float = 30.0) -> None:
        """Write what is queued, complete every open file, stop the writer."""
        self._queue.put(None)
        self._thread.join(timeout_s)

    def _write_loop(self) -> None:
        while True:
            try:
                job = self._queue.get(timeout=1.0)
            except queue.Empty:
                self._rotate(time.monotonic())
                continue
            if job is None:
                break
            model, day, build = job
            try:
                log = build()
                self._file(model, "prediction_logs", day).write(log.SerializeToString())
                for example in _logged_examples(log):
                    self._file(model, "examples", day).write(example)
                self._metrics.written(model)
            except Exception:  # a full disk or a bad record must not stop the writer
                logger.exception("request log for model %r: could not write a record", model)
                self._metrics.dropped(model)
            self._rotate(time.monotonic())
        for key in list(self._files):
            self._files.pop(key).complete()

    def _file(self, model: str, kind: str, day: datetime.date) -> _File:
        key = (model, kind, day)
        handle = self._files.get(key)
        if handle is None:
            for old in [k for k in self._files if k[:2] == (model, kind) and k[2] != day]:
                self._files.pop(old).complete()  # the day is over
            folder = os.path.join(self.log_dir, model, kind, day.strftime("%Y%m%d"))
            # the process id keeps two servers logging to one folder from writing the same file
            now = datetime.datetime.now(datetime.UTC)
            name = f"part-{now:%H%M%S}-{self._worker}{os.getpid()}-{next(_SEQUENCE)}.tfrecord.gz"
            handle = self._files[key] = _File(folder, name)
        return handle

    def _rotate(self, now: float) -> None:
        for key, handle in list(self._files.items()):
            if handle.records >= self._max_records or now - handle.opened >= self._max_age_s:
                self._files.pop(key).complete()


class _File:
    """One gzipped TFRecord file, written under a hidden name until complete."""

    def __init__(self, folder: str, name: str) -> None:
        os.makedirs(folder, exist_ok=True)
        self.path = os.path.join(folder, name)
        self._partial = os.path.join(folder, f".{name}.partial")
        self._writer = tf.io.TFRecordWriter(self._partial, tf.io.TFRecordOptions(compression_type="GZIP"))
        self.records = 0
        self.opened = time.monotonic()

    def write(self, record: bytes) -> None:
        self._writer.write(record)
        self.records += 1

    def complete(self) -> None:
        self._writer.close()
        os.replace(self._partial, self.path)


def _logged_examples(log: prediction_log_pb2.PredictionLog) -> Iterator[bytes]:
    """The serialized tf.Examples a logged request carried."""
    kind = log.WhichOneof("log_type")
    if kind in ("classify_log", "regress_log"):
        request_input = getattr(log, kind).request.input
        if request_input.WhichOneof("kind") == "example_list":
            yield from (e.SerializeToString() for e in request_input.example_list.examples)
        elif request_input.WhichOneof("kind") == "example_list_with_context":
            merged = request_input.example_list_with_context
            yield from (with_context(e, merged.context).SerializeToString() for e in merged.examples)
    elif kind == "predict_log":
        inputs = log.predict_log.request.inputs
        serialized = [
            list(p.string_val)
            for p in inputs.values()
            if p.dtype == tf.string.as_datatype_enum and p.string_val and all(_is_example(v) for v in p.string_val)
        ]
        if serialized:
            for values in serialized:
                yield from values
        else:
            yield from _row_examples({name: tf.make_ndarray(proto) for name, proto in inputs.items()})


def _row_examples(arrays: Mapping[str, np.ndarray]) -> Iterator[bytes]:
    """One serialized tf.Example per row of the batch dimension every input shares (none if they
    do not share one, or one holds values a tf.Example cannot: complex numbers, say)."""
    batch = {a.shape[0] if a.ndim else None for a in arrays.values()}
    if len(batch) != 1 or None in batch or any(a.dtype.kind not in "biufSUO" for a in arrays.values()):
        return
    for row in range(batch.pop() or 0):
        example = tf.train.Example()
        for name, array in sorted(arrays.items()):
            values, feature = array[row : row + 1].ravel(), example.features.feature[name]
            if array.dtype.kind == "f":
                feature.float_list.value.extend(values.astype(np.float64).tolist())
            elif array.dtype.kind in "biu":
                feature.int64_list.value.extend(values.astype(np.int64).tolist())
            else:
                feature.bytes_list.value.extend(v if isinstance(v, bytes) else str(v).encode() for v in values)
        yield example.SerializeToString()


def _is_example(data: bytes) -> bool:
    """Whether ``data`` is a serialized tf.Example with features (not any bytes that happen to parse)."""
    try:
        example = tf.train.Example.FromString(data)
    except DecodeError:
        return False
    return bool(example.features.feature)

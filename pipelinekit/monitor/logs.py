"""Reading the server's request logs: completed PredictionLog files, one logged row per input example.

Only completed files are read (the server writes under a hidden ``.partial`` name and renames);
a file that cannot be read whole (truncated, corrupt gzip, a record that is not a PredictionLog)
is skipped and counted, never fatal, and none of its records is used: a file counts all or nothing.
"""

from __future__ import annotations

import dataclasses
import glob
import gzip
import logging
import os
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from pipelinekit.monitor.predictions import Predictions

__all__ = ["LoggedRow", "LoggedRows", "FileBatch", "log_files", "read_log_file"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class LoggedRow:
    """One input example a version answered: its request id (``<id>`` or ``<id>/<row>`` in a batch),
    the answering version (``<served model>/<version>``, as route targets name it), when (unix seconds), the tf.Example bytes and the prediction's values."""

    request_id: str
    version: str
    timestamp: int
    example: bytes
    prediction: dict[str, list[Any]]


class LoggedRows:
    """Logged rows as columns (what a window reads: no Python object per row): the answering version
    (an index into ``versions``), timestamp, request id (made when first asked for), the examples as
    one TensorFlow string tensor, and the answers (:class:`Predictions`)."""

    def __init__(self, versions: list[str], version_of: np.ndarray, timestamps: np.ndarray, ids: Callable[[], list[str]],
                 examples: Any, predictions: Predictions) -> None:  # fmt: skip
        self.versions, self.version_of, self.timestamps = versions, version_of, timestamps
        self._ids: Callable[[], list[str]] = ids
        self._made_ids: list[str] | None = None
        self.examples, self.predictions = examples, predictions
        self._batch: Any = None

    @property
    def batch(self) -> Any:
        """The examples as tfx-bsl's Arrow batch (made once)."""
        if self._batch is None:
            from pipelinekit.components.util.arrow_examples import examples_record_batch

            self._batch = examples_record_batch(self.examples)
        return self._batch

    def __len__(self) -> int:
        return len(self.timestamps)

    @property
    def request_ids(self) -> list[str]:
        if self._made_ids is None:
            self._made_ids = self._ids()
        return self._made_ids

    def materialize(self) -> list[LoggedRow]:
        """Every row as a :class:`LoggedRow` (for joining labels; statistics read the columns)."""
        examples = self.examples.numpy().tolist()
        return [
            LoggedRow(rid, self.versions[k], t, example, self.predictions.row(i))
            for i, (rid, k, t, example) in enumerate(
                zip(self.request_ids, self.version_of.tolist(), self.timestamps.tolist(), examples)
            )
        ]

    def by_version(self) -> dict[str, np.ndarray]:
        """The row indices of each answering version."""
        return {self.versions[k]: np.flatnonzero(self.version_of == k) for k in np.unique(self.version_of).tolist()}

    def take(self, rows: np.ndarray) -> LoggedRows:
        import tensorflow as tf

        taken = LoggedRows(self.versions, self.version_of[rows], self.timestamps[rows],
                           lambda: [self.request_ids[i] for i in rows.tolist()], tf.gather(self.examples, rows),
                           self.predictions.take(rows))  # fmt: skip
        if self._batch is not None:
            taken._batch = self._batch.take(rows)
        return taken

    @staticmethod
    def concat(parts: list[LoggedRows]) -> LoggedRows:
        import pyarrow as pa
        import tensorflow as tf

        versions = sorted({v for p in parts for v in p.versions})
        index = {v: i for i, v in enumerate(versions)}
        joined = LoggedRows(
            versions,
            np.concatenate(
                [np.array([index[v] for v in p.versions], np.int64)[p.version_of] for p in parts] or [np.zeros(0, np.int64)]
            ),
            np.concatenate([p.timestamps for p in parts] or [np.zeros(0, np.int64)]),
            lambda: [rid for p in parts for rid in p.request_ids],
            tf.concat([p.examples for p in parts], 0) if parts else tf.zeros([0], tf.string),
            Predictions.concat([p.predictions for p in parts]),
        )
        if parts and all(p._batch is not None for p in parts):  # a feature missing from a part is null there
            table = pa.concat_tables([pa.Table.from_batches([p._batch]) for p in parts], promote=True).combine_chunks()
            joined._batch = table.to_batches()[0] if table.num_rows else parts[0]._batch
        return joined

    @staticmethod
    def of_rows(rows: list[LoggedRow]) -> LoggedRows:
        import tensorflow as tf

        versions = sorted({r.version for r in rows})
        index = {v: i for i, v in enumerate(versions)}
        return LoggedRows(versions, np.array([index[r.version] for r in rows], np.int64),
                          np.array([r.timestamp for r in rows], np.int64), lambda: [r.request_id for r in rows],
                          tf.constant([r.example for r in rows], tf.string),
                          Predictions(dicts=[r.prediction for r in rows]))  # fmt: skip


@dataclasses.dataclass
class FileBatch:
    path: str
    rows: LoggedRows
    error: str | None = None


def log_files(log_dir: str, model: str) -> list[str]:
    """Completed PredictionLog files of ``model`` (a served model or a route), oldest first."""
    pattern = os.path.join(log_dir, model, "prediction_logs", "*", "part-*.tfrecord.gz")
    return sorted(glob.glob(pattern), key=lambda p: (os.path.basename(os.path.dirname(p)), os.path.getmtime(p), p))


def read_log_file(path: str) -> FileBatch:
    """Every row of one file, or none and the reason it could not be read whole."""
    import tensorflow as tf
    from google.protobuf.message import DecodeError

    try:
        records = _records(path)
        rows = _fast_rows(records, path)
        if rows is None:
            from tensorflow_serving.apis import prediction_log_pb2

            slow: list[LoggedRow] = []
            for data in records:
                slow.extend(_rows(prediction_log_pb2.PredictionLog.FromString(data), path, len(slow)))
            rows = LoggedRows.of_rows(slow)
        rows.batch  # noqa: B018  (parsed here, on the reader's thread: its C++ runs outside the GIL)
    except (OSError, EOFError, zlib.error, DecodeError, ValueError, tf.errors.OpError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        logger.warning("request log %s is corrupt or incomplete (%s): skipped", path, reason)
        return FileBatch(path, LoggedRows.of_rows([]), reason)
    return FileBatch(path, rows)


def _records(path: str) -> list[bytes]:
    """The records of a gzipped TFRecord file (gzip's own CRC finds a corrupt file; a truncated one
    ends early), in one read: TensorFlow's reader makes a tensor per record."""
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    records, position = [], 0
    while position < len(data):
        (length,) = struct.unpack_from("<Q", data, position) if position + 12 <= len(data) else (len(data),)
        end = position + 12 + length
        if end + 4 > len(data):
            raise ValueError(f"truncated record at byte {position}")
        records.append(data[position + 12 : end])
        position = end + 4
    return records


def _fast_rows(records: list[bytes], path: str) -> LoggedRows | None:
    """The rows of Classify and Regress logs, decoded in C++ (see :mod:`pipelinekit.monitor.decoded`)."""
    from pipelinekit.monitor.decoded import decode_logs

    decoded = decode_logs(records)
    if decoded is None:
        return None
    counts = decoded.counts
    predictions = (
        Predictions(values=decoded.values)
        if decoded.values is not None
        else Predictions(decoded.class_counts, decoded.classes, decoded.scores)
    )

    def ids() -> list[str]:
        from pipelinekit.serving.request_log import REQUEST_ID_PREFIX

        made: list[str] = []
        for origin, count in zip(decoded.origins.numpy().tolist(), counts.tolist()):
            text = origin.decode("utf-8", "replace")
            rid = (
                text[len(REQUEST_ID_PREFIX) :] if text.startswith(REQUEST_ID_PREFIX) else f"{os.path.basename(path)}#{len(made)}"
            )
            made.extend([rid] if count == 1 else [f"{rid}/{offset}" for offset in range(count)])
        return made

    return LoggedRows(decoded.keys, np.repeat(decoded.key_of, counts), np.repeat(decoded.timestamps, counts), ids,
                      decoded.examples, predictions)  # fmt: skip


def _rows(log: Any, path: str, seen: int) -> Iterator[LoggedRow]:
    from pipelinekit.serving.request_log import REQUEST_ID_PREFIX, logged_examples

    meta = log.log_metadata
    spec = meta.model_spec
    version = f"{spec.name}/{spec.version.value}" if spec.HasField("version") else spec.name or "unknown"
    origin = meta.request_origin
    # records written before request ids existed get a stable id from the file and position
    rid = origin[len(REQUEST_ID_PREFIX) :] if origin.startswith(REQUEST_ID_PREFIX) else f"{os.path.basename(path)}#{seen}"
    examples = list(logged_examples(log))
    predictions = _predictions(log, len(examples))
    for row, example in enumerate(examples):
        yield LoggedRow(rid if len(examples) == 1 else f"{rid}/{row}", version, meta.timestamp_secs, example, predictions[row])


def _predictions(log: Any, rows: int) -> list[dict[str, list[Any]]]:
    """Per row: ``classes`` and ``scores`` (Classify), ``value`` (Regress), or each Predict output's values."""
    kind = log.WhichOneof("log_type")
    if kind == "classify_log":
        found = [
            {"classes": [c.label for c in r.classes], "scores": [c.score for c in r.classes]}
            for r in log.classify_log.response.result.classifications
        ]
    elif kind == "regress_log":
        found = [{"value": [r.value]} for r in log.regress_log.response.result.regressions]
    elif kind == "predict_log":
        import tensorflow as tf

        outputs = {name: tf.make_ndarray(proto) for name, proto in log.predict_log.response.outputs.items()}
        found = [
            {name: _plain(array[row].ravel().tolist()) for name, array in outputs.items() if array.ndim and len(array) == rows}
            for row in range(rows)
        ]
    else:
        found = []
    return found if len(found) == rows else [{} for _ in range(rows)]


def _plain(values: list[Any]) -> list[Any]:
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in values]

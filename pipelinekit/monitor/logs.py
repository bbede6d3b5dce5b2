"""Reading the server's request logs: completed PredictionLog files, one logged row per input example.

Only completed files are read (the server writes under a hidden ``.partial`` name and renames);
a file that cannot be read whole (truncated, corrupt gzip, a record that is not a PredictionLog)
is skipped and counted, never fatal, and none of its records is used: a file counts all or nothing.
"""

from __future__ import annotations

import dataclasses
import glob
import logging
import os
from collections.abc import Iterator
from typing import Any

__all__ = ["LoggedRow", "FileBatch", "log_files", "read_log_file"]

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


@dataclasses.dataclass
class FileBatch:
    path: str
    rows: list[LoggedRow]
    error: str | None = None


def log_files(log_dir: str, model: str) -> list[str]:
    """Completed PredictionLog files of ``model`` (a served model or a route), oldest first."""
    pattern = os.path.join(log_dir, model, "prediction_logs", "*", "part-*.tfrecord.gz")
    return sorted(glob.glob(pattern), key=lambda p: (os.path.basename(os.path.dirname(p)), os.path.getmtime(p), p))


def read_log_file(path: str) -> FileBatch:
    """Every row of one file, or none and the reason it could not be read whole."""
    import tensorflow as tf
    from google.protobuf.message import DecodeError
    from tensorflow_serving.apis import prediction_log_pb2

    rows: list[LoggedRow] = []
    try:
        for chunk in tf.data.TFRecordDataset(path, compression_type="GZIP", buffer_size=1 << 22).batch(65536):
            records = list(chunk.numpy())
            fast = _fast_rows(records, path, len(rows))
            if fast is not None:
                rows.extend(fast)
                continue
            for data in records:
                rows.extend(_rows(prediction_log_pb2.PredictionLog.FromString(data), path, len(rows)))
    except (tf.errors.OpError, DecodeError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        logger.warning("request log %s is corrupt or incomplete (%s): skipped", path, reason)
        return FileBatch(path, [], reason)
    return FileBatch(path, rows)


def _fast_rows(records: list[bytes], path: str, seen: int) -> list[LoggedRow] | None:
    """The rows of Classify and Regress logs, decoded in C++ (see :mod:`pipelinekit.monitor.decoded`)."""
    from pipelinekit.monitor.decoded import decode_logs
    from pipelinekit.serving.request_log import REQUEST_ID_PREFIX

    decoded = decode_logs(records)
    if decoded is None:
        return None
    versions, timestamps, origins, counts, examples, predictions = decoded
    rows: list[LoggedRow] = []
    row = 0
    for version, timestamp, origin, count in zip(versions, timestamps.tolist(), origins, counts):
        text = origin.decode("utf-8", "replace")
        rid = text[len(REQUEST_ID_PREFIX) :] if text.startswith(REQUEST_ID_PREFIX) else f"{os.path.basename(path)}#{seen + row}"
        for offset in range(count):
            rows.append(
                LoggedRow(
                    rid if count == 1 else f"{rid}/{offset}",
                    version,
                    timestamp,
                    examples[row + offset],
                    predictions[row + offset],
                )
            )
        row += count
    return rows


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

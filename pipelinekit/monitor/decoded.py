"""Vectorized reading of Classify and Regress PredictionLogs with ``tf.io.decode_proto`` (C++),
the monitor's fast path: the logged examples stay one TensorFlow string tensor (parsed to Arrow
without becoming Python objects), predictions become numeric columns, and nothing is made per row.
Records of other kinds (Predict, examples with a context) return ``None`` and are read field by field."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np

__all__ = ["DecodedLogs", "decode_logs"]


@dataclasses.dataclass
class DecodedLogs:
    """Per record: ``<model>/<version>`` (as an index into ``keys``), timestamp, request origin
    (a string tensor) and row count; per row: the example (a string tensor) and its answer, either
    ``classes``/``scores`` (flattened, ``class_counts`` per row) or ``values`` (Regress)."""

    keys: list[str]
    key_of: np.ndarray
    timestamps: np.ndarray
    origins: Any
    counts: np.ndarray
    examples: Any
    class_counts: np.ndarray | None = None
    classes: np.ndarray | None = None  # str, flattened
    scores: np.ndarray | None = None  # float32, flattened
    values: np.ndarray | None = None  # float32 per row (Regress)


@functools.cache
def _descriptors() -> bytes:
    """The PredictionLog protos and their imports, as decode_proto's ``bytes://`` descriptor source."""
    from google.protobuf import descriptor_pb2
    from tensorflow_serving.apis import prediction_log_pb2

    found = descriptor_pb2.FileDescriptorSet()
    seen: set[str] = set()

    def add(file: Any) -> None:
        if file.name not in seen:
            seen.add(file.name)
            for dependency in file.dependencies:
                add(dependency)
            file.CopyToProto(found.file.add())

    add(prediction_log_pb2.DESCRIPTOR)
    return b"bytes://" + found.SerializeToString()


def _decode(messages: Any, message_type: str, fields: list[str], types: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """Field sizes (numpy) and values (tensors) of each message in the string tensor ``messages``."""
    import tensorflow as tf

    name = f"tensorflow.serving.{message_type}" if "." not in message_type else message_type
    sizes, values = tf.io.decode_proto(messages, name, fields, types, descriptor_source=_descriptors())
    return sizes.numpy(), list(values)


def _present(sizes: np.ndarray, values: Any) -> Any:
    """The present values of a repeated field (``[messages, most]`` padded), flattened in order."""
    import tensorflow as tf

    return tf.boolean_mask(values, tf.sequence_mask(sizes, tf.shape(values)[1]))


def decode_logs(records: list[bytes]) -> DecodedLogs | None:
    """The records' columns, or None when some record is not a Classify or Regress log of an example list."""
    import tensorflow as tf

    string, int64, float32 = tf.string, tf.int64, tf.float32
    batch = tf.constant(records, dtype=string)
    sizes, (meta, classify, regress) = _decode(
        batch, "PredictionLog", ["log_metadata", "classify_log", "regress_log"], [string] * 3
    )
    if not len(records) or (sizes[:, 1] + sizes[:, 2] != 1).any() or (sizes[:, 1] == 0).any() and (sizes[:, 2] == 0).any():
        return None
    if (sizes[:, 0] != 1).any():
        return None
    kind = "ClassifyLog" if sizes[0, 1] else "RegressLog"
    entry = classify[:, 0] if kind == "ClassifyLog" else regress[:, 0]
    _, (spec, timestamps, origins) = _decode(
        meta[:, 0], "LogMetadata", ["model_spec", "timestamp_secs", "request_origin"], [string, int64, string]
    )
    spec_sizes, (names, versions) = _decode(spec[:, 0], "ModelSpec", ["name", "version"], [string, string])
    _, (numbers,) = _decode(versions[:, 0], "google.protobuf.Int64Value", ["value"], [int64])
    distinct, name_of = (t.numpy() for t in tf.unique(names[:, 0]))
    combined = np.stack([name_of, numbers[:, 0].numpy(), spec_sizes[:, 1] > 0], axis=1)
    pairs, key_of = np.unique(combined, axis=0, return_inverse=True)
    keys = [f"{distinct[n].decode()}/{v}" if has else distinct[n].decode() for n, v, has in pairs.tolist()]
    _, (request, response) = _decode(entry, kind, ["request", "response"], [string, string])
    request_type = "ClassificationRequest" if kind == "ClassifyLog" else "RegressionRequest"
    _, (inputs,) = _decode(request[:, 0], request_type, ["input"], [string])
    input_sizes, (example_lists,) = _decode(inputs[:, 0], "Input", ["example_list"], [string])
    if (input_sizes[:, 0] == 0).any():
        return None
    example_sizes, (examples,) = _decode(example_lists[:, 0], "ExampleList", ["examples"], [string])
    rows_per_record = example_sizes[:, 0]
    response_type = "ClassificationResponse" if kind == "ClassifyLog" else "RegressionResponse"
    _, (results,) = _decode(response[:, 0], response_type, ["result"], [string])
    decoded = DecodedLogs(keys, key_of.reshape(-1), timestamps[:, 0].numpy(), origins[:, 0], rows_per_record,
                          _present(rows_per_record, examples))  # fmt: skip
    if kind == "ClassifyLog":
        answer_sizes, (answers,) = _decode(results[:, 0], "ClassificationResult", ["classifications"], [string])
        class_sizes, (classes,) = _decode(_present(answer_sizes[:, 0], answers), "Classifications", ["classes"], [string])
        _, (labels, scores) = _decode(_present(class_sizes[:, 0], classes), "Class", ["label", "score"], [string, float32])
        names, which = (t.numpy() for t in tf.unique(labels[:, 0]))  # few distinct labels: decode each once
        decoded.class_counts = class_sizes[:, 0]
        decoded.classes = np.array([name.decode("utf-8", "replace") for name in names], object)[which]
        decoded.scores = scores[:, 0].numpy()
    else:
        answer_sizes, (answers,) = _decode(results[:, 0], "RegressionResult", ["regressions"], [string])
        _, (values,) = _decode(_present(answer_sizes[:, 0], answers), "Regression", ["value"], [float32])
        decoded.values = values[:, 0].numpy()
    if not np.array_equal(answer_sizes[:, 0], rows_per_record):
        return None  # an answer with a row count unlike its request's: read field by field
    return decoded

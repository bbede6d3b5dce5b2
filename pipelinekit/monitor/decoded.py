"""Vectorized reading of Classify and Regress PredictionLogs with ``tf.io.decode_proto`` (C++),
the monitor's fast path: Python touches each row once, not each proto field. Records of other
kinds (Predict, examples with a context) return ``None`` and are read field by field instead."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

__all__ = ["decode_logs"]


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


def _decode(messages: Any, message_type: str, fields: list[str], types: list[Any]) -> tuple[np.ndarray, list[np.ndarray]]:
    import tensorflow as tf

    sizes, values = tf.io.decode_proto(messages, f"tensorflow.serving.{message_type}" if "." not in message_type else message_type,
                                       fields, types, descriptor_source=_descriptors())  # fmt: skip
    return sizes.numpy(), [v.numpy() for v in values]


def _ragged(sizes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The present values of a repeated field, flattened in order."""
    mask = np.arange(values.shape[1])[None, :] < sizes[:, None] if values.ndim == 2 else np.ones(len(values), bool)
    return values[mask]


def decode_logs(
    records: list[bytes],
) -> tuple[list[str], np.ndarray, np.ndarray, list[int], list[bytes], list[dict[str, list[Any]]]] | None:
    """Per record: ``<model>/<version>``, timestamp, request origin and row count; per row: example
    bytes and prediction; or None when some record is not a Classify or Regress log of an example list."""
    import tensorflow as tf

    if not records:
        return [], np.zeros(0, np.int64), np.zeros(0, object), [], [], []
    string, int64, float32 = tf.string, tf.int64, tf.float32
    batch = tf.constant(records)
    sizes, (meta, classify, regress) = _decode(
        batch, "PredictionLog", ["log_metadata", "classify_log", "regress_log"], [string] * 3
    )
    kinds = sizes[:, 1] + sizes[:, 2]
    if (kinds != 1).any() or (sizes[:, 1] == 0).any() and (sizes[:, 2] == 0).any() or (sizes[:, 0] != 1).any():
        return None
    kind = "ClassifyLog" if sizes[0, 1] else "RegressLog"
    entry = classify[:, 0] if kind == "ClassifyLog" else regress[:, 0]
    _, (spec, timestamps, origins) = _decode(
        meta[:, 0], "LogMetadata", ["model_spec", "timestamp_secs", "request_origin"], [string, int64, string]
    )
    spec_sizes, (names, versions) = _decode(spec[:, 0], "ModelSpec", ["name", "version"], [string, string])
    version_sizes, (numbers,) = _decode(versions[:, 0], "google.protobuf.Int64Value", ["value"], [int64])
    keys = [f"{n.decode()}/{v}" if has else n.decode() for n, v, has in zip(names[:, 0], numbers[:, 0], spec_sizes[:, 1] > 0)]
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
    if kind == "ClassifyLog":
        answer_sizes, (answers,) = _decode(results[:, 0], "ClassificationResult", ["classifications"], [string])
        class_sizes, (classes,) = _decode(_ragged(answer_sizes[:, 0], answers), "Classifications", ["classes"], [string])
        label_sizes, (labels, scores) = _decode(
            _ragged(class_sizes[:, 0], classes), "Class", ["label", "score"], [string, float32]
        )
        labels = np.where(label_sizes[:, 0] > 0, labels[:, 0], b"")
        bounds = [0, *np.cumsum(class_sizes[:, 0]).tolist()]
        names, which = np.unique(labels, return_inverse=True)  # few distinct labels: decode each once
        decoded = [name.decode("utf-8", "replace") for name in names]
        label_list, score_list = [decoded[i] for i in which.tolist()], scores[:, 0].tolist()
        predictions = [{"classes": label_list[a:b], "scores": score_list[a:b]} for a, b in zip(bounds[:-1], bounds[1:])]
    else:
        answer_sizes, (answers,) = _decode(results[:, 0], "RegressionResult", ["regressions"], [string])
        _, (values,) = _decode(_ragged(answer_sizes[:, 0], answers), "Regression", ["value"], [float32])
        predictions = [{"value": [v]} for v in values[:, 0].tolist()]
    if not np.array_equal(answer_sizes[:, 0], rows_per_record):
        return None  # an answer with a row count unlike its request's: read field by field
    return keys, timestamps[:, 0], origins[:, 0], rows_per_record.tolist(), list(_ragged(rows_per_record, examples)), predictions

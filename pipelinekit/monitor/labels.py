"""Labels that come later, keyed by request id: CSV, JSON lines or TFRecord files of tf.Example.

A file or a folder of them is read; each bad line (no id, no label, a label of the wrong type,
not JSON, a record that is not a tf.Example) is reported with its file and line and skipped.
A label is a number or a string; the first label of an id wins, later ones are counted as
duplicates and reported.
"""

from __future__ import annotations

import csv
import dataclasses
import glob
import json
import os
from collections.abc import Iterator
from typing import Any

from pipelinekit.monitor.errors import LabelsError

__all__ = ["Label", "LabelProblem", "LabelFile", "label_files", "read_labels"]

_SUFFIXES = (".csv", ".jsonl", ".json", ".tfrecord", ".tfrecord.gz", ".gz")


@dataclasses.dataclass(frozen=True)
class Label:
    request_id: str
    value: float | str
    line: int


@dataclasses.dataclass(frozen=True)
class LabelProblem:
    path: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.path}, line {self.line}: {self.problem}"


@dataclasses.dataclass
class LabelFile:
    path: str
    labels: list[Label]
    problems: list[LabelProblem]


def label_files(path: str) -> list[str]:
    """``path`` itself, or the label files in the folder ``path`` (hidden files skipped), sorted."""
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        return []
    found = glob.glob(os.path.join(path, "**", "*"), recursive=True)
    return sorted(f for f in found if os.path.isfile(f) and f.endswith(_SUFFIXES) and not os.path.basename(f).startswith("."))


def read_labels(path: str, id_key: str, label_key: str) -> LabelFile:
    """Every good label of one file, and a problem for each bad line."""
    result = LabelFile(path, [], [])
    if path.endswith(".csv"):
        rows: Iterator[tuple[int, Any]] = _csv_rows(path)
    elif path.endswith((".jsonl", ".json")):
        rows = _json_rows(path)
    else:
        rows = _tfrecord_rows(path, id_key, label_key)
    try:
        for line, row in rows:
            if isinstance(row, str):  # a line that could not be parsed at all
                result.problems.append(LabelProblem(path, line, row))
                continue
            label, problem = _label(row, id_key, label_key, line)
            if label is None:
                result.problems.append(LabelProblem(path, line, problem))
            else:
                result.labels.append(label)
    except OSError as error:
        raise LabelsError(f"labels file {path} cannot be read: {error}") from error
    return result


def _label(row: dict[str, Any], id_key: str, label_key: str, line: int) -> tuple[Label | None, str]:
    rid, value = row.get(id_key), row.get(label_key)
    if rid is None or rid == "":
        return None, f"no {id_key!r}"
    if isinstance(rid, (int, float)) and not isinstance(rid, bool):
        rid = str(rid)
    if not isinstance(rid, str):
        return None, f"{id_key!r} must be a string, got {type(rid).__name__}"
    if value is None or value == "":
        return None, f"no {label_key!r} for id {rid!r}"
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None, f"{label_key!r} of id {rid!r} must be a number or a string, got {type(value).__name__}"
    if isinstance(value, float) and value != value:
        return None, f"{label_key!r} of id {rid!r} is NaN"
    return Label(rid, value if isinstance(value, str) else float(value), line), ""


def _csv_rows(path: str) -> Iterator[tuple[int, Any]]:
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            yield reader.line_num, {k: _number_or_text(v) for k, v in row.items() if k is not None}


def _number_or_text(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return value


def _json_rows(path: str) -> Iterator[tuple[int, Any]]:
    with open(path) as handle:
        for line, text in enumerate(handle, 1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except ValueError as error:
                yield line, f"not JSON: {error}"
                continue
            yield line, row if isinstance(row, dict) else f"not a JSON object: {text.strip()[:80]}"


def _tfrecord_rows(path: str, id_key: str, label_key: str) -> Iterator[tuple[int, Any]]:
    import tensorflow as tf
    from google.protobuf.message import DecodeError

    compression = "GZIP" if path.endswith(".gz") else ""
    line = 0
    try:
        for data in tf.data.TFRecordDataset(path, compression_type=compression).as_numpy_iterator():
            line += 1
            try:
                features = tf.train.Example.FromString(data).features.feature
            except DecodeError:
                yield line, "not a tf.Example"
                continue
            yield line, {key: _feature_value(features[key]) for key in (id_key, label_key) if key in features}
    except tf.errors.OpError as error:
        yield line + 1, f"the file is corrupt or cut short from here: {str(error).splitlines()[0]}"


def _feature_value(feature: Any) -> Any:
    kind = feature.WhichOneof("kind")
    values = list(getattr(feature, kind).value) if kind else []
    if len(values) != 1:
        return [values]  # refused by _label: a label is one value
    value = values[0]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value

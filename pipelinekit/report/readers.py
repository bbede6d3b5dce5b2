"""Artifact payloads read with their own protobuf classes, in TFX's on-disk layout.

Statistics (``Split-<name>/FeatureStats.pb``), anomalies (``Split-<name>/SchemaDiff.pb``) and the
schema (``schema.pbtxt``) are tensorflow_metadata protos; TFMA's metrics are ``MetricsForSlice``
records with its ``eval_config.json``; the Tuner's trials are ``tuner_results.json``. Each reader
names the file it could not read; none imports TensorFlow.
"""

from __future__ import annotations

import glob
import importlib.metadata
import importlib.util
import json
import os
import sys
from functools import cache
from types import ModuleType
from typing import Any

from pipelinekit.errors import MetadataError
from pipelinekit.types.artifact import Artifact

__all__ = [
    "split_names",
    "split_files",
    "read_statistics",
    "read_anomalies",
    "read_schema",
    "read_metrics",
    "read_eval_config",
    "read_json",
]

STATS_FILE = "FeatureStats.pb"
ANOMALIES_FILE = "SchemaDiff.pb"
WHOLE = "all"


def split_names(artifact: Artifact) -> list[str]:
    """The artifact's splits: its ``split_names`` property, else its ``Split-*`` folders."""
    names = artifact.properties.get("split_names")
    if names:
        return [str(n) for n in json.loads(names)] if isinstance(names, str) and names.startswith("[") else str(names).split(",")
    return sorted(p[len("Split-") :] for p in _listdir(artifact.uri) if p.startswith("Split-"))


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _read_bytes(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise MetadataError(f"cannot read the {what} at {path}: {error.strerror}; was the artifact deleted or moved?") from error


def _parse(proto: Any, data: bytes, path: str, what: str) -> Any:
    from google.protobuf.message import DecodeError

    try:
        proto.ParseFromString(data)
    except DecodeError as error:
        raise MetadataError(f"the {what} at {path} is not a {type(proto).__name__} proto: {error}") from error
    return proto


def split_files(artifact: Artifact, file_name: str) -> dict[str, str]:
    """``split -> path`` of ``file_name`` in each ``Split-<name>/`` (``SplitPair-<name>/`` for
    DistributionValidator's split pairs, as TFX names them); an artifact without splits that
    holds the file itself (Transform's statistics and anomalies, as in TFX) gives ``{"all": path}``."""
    found = {}
    for split in split_names(artifact):
        for folder in ("Split", "SplitPair"):
            path = os.path.join(artifact.uri, f"{folder}-{split}", file_name)
            if os.path.exists(path):
                found[split] = path
                break
    whole = os.path.join(artifact.uri, file_name)
    if not found and os.path.exists(whole):
        found[WHOLE] = whole
    return found


def read_statistics(artifact: Artifact) -> dict[str, Any]:
    """``split -> DatasetFeatureStatistics`` (the first dataset of each split's list)."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    found = {}
    for split, path in split_files(artifact, STATS_FILE).items():
        stats = _parse(statistics_pb2.DatasetFeatureStatisticsList(), _read_bytes(path, "statistics"), path, "statistics")
        if stats.datasets:
            found[split] = stats.datasets[0]
    return found


def read_anomalies(artifact: Artifact) -> dict[str, Any]:
    """``split -> Anomalies``."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    return {
        split: _parse(anomalies_pb2.Anomalies(), _read_bytes(path, "anomalies"), path, "anomalies")
        for split, path in split_files(artifact, ANOMALIES_FILE).items()
    }


def read_schema(artifact: Artifact) -> Any:
    """The artifact's Schema (its ``.pbtxt``), or None when there is none."""
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    files = sorted(glob.glob(os.path.join(artifact.uri, "*.pbtxt")))
    if not files:
        return None
    text = _read_bytes(files[0], "schema").decode("utf-8", errors="replace")
    try:
        return text_format.Parse(text, schema_pb2.Schema())
    except text_format.ParseError as error:
        raise MetadataError(f"the schema at {files[0]} is not a text-format Schema: {error}") from error


def read_metrics(artifact: Artifact) -> list[Any]:
    """TFMA's ``MetricsForSlice`` records of a ModelEvaluation, in file order."""
    from pipelinekit.report.tfrecord import read_records

    metrics_pb2 = _tfma_metrics_module()
    found = []
    for path in sorted(glob.glob(os.path.join(artifact.uri, "metrics*"))):
        for record in read_records(path):
            found.append(_parse(metrics_pb2.MetricsForSlice(), record, path, "TFMA metrics"))
    return found


def read_eval_config(artifact: Artifact) -> dict[str, Any]:
    """The ``eval_config`` TFMA saved beside its metrics (JSON), or ``{}``."""
    path = os.path.join(artifact.uri, "eval_config.json")
    if not os.path.exists(path):
        return {}
    data = read_json(path, "TFMA eval config")
    return dict(data.get("evalConfig", data)) if isinstance(data, dict) else {}


def read_json(path: str, what: str) -> Any:
    try:
        return json.loads(_read_bytes(path, what))
    except ValueError as error:
        raise MetadataError(f"the {what} at {path} is not JSON: {error}") from error


@cache
def _tfma_metrics_module() -> ModuleType:
    """TFMA's ``metrics_for_slice_pb2``. It needs only protobuf, but importing it through its package
    runs TFMA's ``__init__`` (TensorFlow and Beam: seconds), so unless TFMA is already loaded it is
    loaded from its file under a private name; the descriptor it adds is TFMA's own, byte for byte."""
    name = "tensorflow_model_analysis.proto.metrics_for_slice_pb2"
    if "tensorflow_model_analysis" in sys.modules:
        return importlib.import_module(name)
    try:
        path = importlib.metadata.distribution("tensorflow-model-analysis").locate_file(name.replace(".", "/") + ".py")
    except importlib.metadata.PackageNotFoundError as error:
        raise MetadataError("reading a model evaluation needs tensorflow-model-analysis; pip install it") from error
    spec = importlib.util.spec_from_file_location("pipelinekit_report_tfma_metrics_for_slice_pb2", str(path))
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module

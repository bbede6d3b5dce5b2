"""Artifact payloads read with their own protobuf classes, in TFX's on-disk layout.

Statistics (``Split-<name>/FeatureStats.pb``), anomalies (``Split-<name>/SchemaDiff.pb``) and the
schema (``schema.pbtxt``) are tensorflow_metadata protos; TFMA's metrics are ``MetricsForSlice``
records with its ``eval_config.json``; the Tuner's trials are ``tuner_results.json``; ExampleDiff's
results are TFDV's ``FeatureSkew``, ``MatchStats`` and ``ConfusionCount`` record files in each
``SplitPair-<test>_<base>/``. Each reader names the file it could not read; none imports TensorFlow.
"""

from __future__ import annotations

import glob
import importlib.metadata
import importlib.util
import json
import os
import sys
from dataclasses import dataclass, field
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
    "split_pair_folders",
    "read_example_diff",
    "ExampleDiffRecords",
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

    metrics_pb2 = _proto_module("tensorflow-model-analysis", "tensorflow_model_analysis.proto.metrics_for_slice_pb2")
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


def split_pair_folders(artifact: Artifact) -> dict[str, str]:
    """``pair -> folder`` of each ``SplitPair-<test>_<base>/`` in the artifact, by pair name."""
    prefix = "SplitPair-"
    return {p[len(prefix) :]: os.path.join(artifact.uri, p) for p in sorted(_listdir(artifact.uri)) if p.startswith(prefix)}


@dataclass
class ExampleDiffRecords:
    """One split pair of an ExamplesDiff: TFDV's per-feature skew, the match stats and, when
    ExampleDiff had a ``confusion_config``, the confusion counts."""

    skew: list[Any]
    match: Any
    confusion: list[Any] = field(default_factory=list)


def read_example_diff(folder: str) -> ExampleDiffRecords:
    """The records ExampleDiff wrote in one ``SplitPair-`` folder (TFDV's sinks: uncompressed
    TFRecord shards ``<prefix>-NNNNN-of-NNNNN``, prefixes as TFX names them)."""
    results_pb2 = _proto_module("tensorflow-data-validation", "tensorflow_data_validation.skew.protos.feature_skew_results_pb2")
    skew = _skew_records(folder, "skew_stats", results_pb2.FeatureSkew, required=True)
    match = _skew_records(folder, "match_stats", results_pb2.MatchStats, required=True)
    if len(match) != 1:
        raise MetadataError(f"{folder}: match_stats holds {len(match)} MatchStats records, not 1; rerun ExampleDiff")
    confusion = _skew_records(folder, "confusion", results_pb2.ConfusionCount, required=False)
    return ExampleDiffRecords(skew, match[0], confusion)


def _skew_records(folder: str, prefix: str, message: Any, required: bool) -> list[Any]:
    from pipelinekit.report.tfrecord import read_records

    shards = sorted(glob.glob(os.path.join(folder, f"{prefix}-*-of-*")))
    if required and not shards:
        raise MetadataError(
            f"no {prefix} records ({prefix}-NNNNN-of-NNNNN) in {folder}; was the artifact deleted or moved, "
            "or written by something other than ExampleDiff?"
        )
    what = f"{message.DESCRIPTOR.name} records"
    found: list[Any] = []
    for path in shards:
        try:
            found.extend(_parse(message(), record, path, what) for record in read_records(path))
        except OSError as error:
            raise MetadataError(f"cannot read the {what} at {path}: {error.strerror}") from error
    return found


@cache
def _proto_module(distribution: str, name: str) -> ModuleType:
    """A library's generated ``*_pb2`` module. Such a module needs only protobuf, but importing it
    through its package runs the package's ``__init__`` (TFMA's and TFDV's import TensorFlow and
    Beam: seconds), so unless the package is already loaded it is loaded from its file under a
    private name; the descriptor it adds is the library's own, byte for byte."""
    if name.split(".")[0] in sys.modules:
        return importlib.import_module(name)
    try:
        path = importlib.metadata.distribution(distribution).locate_file(name.replace(".", "/") + ".py")
    except importlib.metadata.PackageNotFoundError as error:
        raise MetadataError(f"reading this artifact needs {distribution}; pip install it") from error
    spec = importlib.util.spec_from_file_location(f"pipelinekit_report_{name.rsplit('.', 1)[1]}", str(path))
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module

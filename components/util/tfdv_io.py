"""Statistics, schema and anomalies files in TFX's layout, read and written with TFDV so
TFX tools (``tfdv.load_stats_binary``, ``tfdv.load_schema_text``) read ours."""

from __future__ import annotations

import os
from typing import Any

from pipelinekit.components.util.errors import InputDataError

from pipelinekit.types.artifact import Artifact

__all__ = ["STATS_FILE", "SCHEMA_FILE", "ANOMALIES_FILE", "load_stats", "write_stats", "load_schema", "write_schema", "schema_file", "selected_splits"]

STATS_FILE = "FeatureStats.pb"
SCHEMA_FILE = "schema.pbtxt"
ANOMALIES_FILE = "SchemaDiff.pb"


def selected_splits(artifact: Any, exclude: list[str] | None, node: str) -> list[str]:
    """The artifact's splits minus ``exclude``; an error when none is left."""
    splits = [s for s in artifact.splits if s not in (exclude or [])]
    if not splits:
        raise InputDataError(f"{node}: no splits to process in {artifact.TYPE_NAME} at {artifact.uri} "
                             f"(its splits: {artifact.splits}, excluded: {exclude}); check exclude_splits")
    return splits


def load_stats(path: str) -> Any:
    """A DatasetFeatureStatisticsList from a binary stats file."""
    import tensorflow_data_validation as tfdv

    if not os.path.isfile(path):
        raise InputDataError(f"statistics file {path} does not exist; was the statistics artifact written by StatisticsGen?")
    return tfdv.load_stats_binary(path)


def write_stats(stats: Any, path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(stats.SerializeToString())


def load_schema(artifact_or_path: Artifact | str) -> Any:
    """The Schema in an artifact folder (its only ``.pbtxt``) or a file; parse errors name file and line."""
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    path = artifact_or_path if isinstance(artifact_or_path, str) else schema_file(artifact_or_path.uri)
    try:
        with open(path) as handle:
            text = handle.read()
    except OSError as error:
        raise InputDataError(f"schema file {path} cannot be read: {error.strerror}") from error
    try:
        return text_format.Parse(text, schema_pb2.Schema())
    except text_format.ParseError as error:
        raise InputDataError(f"schema file {path}, line {error.GetLine()}: not a text-format Schema: {error}; fix the file") from error


def write_schema(schema: Any, folder: str) -> str:
    from google.protobuf import text_format

    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, SCHEMA_FILE)
    with open(path, "w") as handle:
        handle.write(text_format.MessageToString(schema))
    return path


def schema_file(folder: str) -> str:
    """The schema file in a Schema artifact folder: schema.pbtxt, or its only file."""
    path = os.path.join(folder, SCHEMA_FILE)
    if os.path.isfile(path):
        return path
    files = [f for f in os.listdir(folder) if os.path.isfile(os.path.join(folder, f))] if os.path.isdir(folder) else []
    if len(files) != 1:
        raise InputDataError(f"schema artifact {folder} must hold {SCHEMA_FILE} (or exactly one file), found {files}")
    return os.path.join(folder, files[0])

"""Helpers for the core tests: read MLMD through the raw ml_metadata API, independent of ours."""

from __future__ import annotations

import os

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2


def raw_store(pipeline_root: str) -> metadata_store.MetadataStore:
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = os.path.join(pipeline_root, "metadata.sqlite")
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return metadata_store.MetadataStore(config)


def executions_of(store: metadata_store.MetadataStore, node_id: str) -> list[metadata_store_pb2.Execution]:
    return [e for e in store.get_executions() if e.custom_properties["node_id"].string_value == node_id]


def state_name(execution: metadata_store_pb2.Execution) -> str:
    return metadata_store_pb2.Execution.State.Name(execution.last_known_state)

"""``tfx.orchestration.metadata``: ML Metadata connection configs (ml_metadata loads on call)."""

from __future__ import annotations

from typing import Any

__all__ = ["sqlite_metadata_connection_config", "mysql_metadata_connection_config", "ConnectionConfigType"]

ConnectionConfigType = Any


def sqlite_metadata_connection_config(metadata_db_uri: str) -> Any:
    """A ConnectionConfig for a SQLite store at ``metadata_db_uri`` (created if missing)."""
    import os

    from ml_metadata.proto import metadata_store_pb2

    os.makedirs(os.path.dirname(os.path.abspath(metadata_db_uri)), exist_ok=True)
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = metadata_db_uri
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    return config


def mysql_metadata_connection_config(host: str, port: int, database: str, username: str, password: str) -> Any:
    """A ConnectionConfig for a MySQL store."""
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.mysql.host = host
    config.mysql.port = port
    config.mysql.database = database
    config.mysql.user = username
    config.mysql.password = password
    return config

"""Where the ML Metadata store lives: a SQLite file by default, MySQL for shared use.

Pure data, so a pipeline file can name its store without importing ml_metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["MetadataConfig", "sqlite_metadata", "mysql_metadata"]


@dataclass(frozen=True)
class MetadataConfig:
    """Connection settings for an MLMD store; build one with :func:`sqlite_metadata` or :func:`mysql_metadata`."""

    kind: str  # "sqlite" or "mysql"
    path: str = ""
    host: str = ""
    port: int = 3306
    database: str = ""
    user: str = ""
    password: str = ""

    def describe(self) -> str:
        """Where the store is, for messages (never the password)."""
        if self.kind == "sqlite":
            return f"sqlite:{self.path}"
        return f"mysql://{self.user}@{self.host}:{self.port}/{self.database}"

    def to_connection_config(self) -> Any:
        """The ``ml_metadata`` ConnectionConfig proto for these settings."""
        from ml_metadata.proto import metadata_store_pb2

        config = metadata_store_pb2.ConnectionConfig()
        if self.kind == "sqlite":
            config.sqlite.filename_uri = self.path
            config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
        else:
            config.mysql.host = self.host
            config.mysql.port = self.port
            config.mysql.database = self.database
            config.mysql.user = self.user
            config.mysql.password = self.password
        return config


def sqlite_metadata(path: str) -> MetadataConfig:
    """An MLMD store in the SQLite file at ``path`` (created on first use)."""
    return MetadataConfig("sqlite", path=path)


def mysql_metadata(host: str, database: str, user: str, password: str = "", port: int = 3306) -> MetadataConfig:
    """An MLMD store in a MySQL database, for pipelines shared by several people or machines."""
    return MetadataConfig("mysql", host=host, port=port, database=database, user=user, password=password)

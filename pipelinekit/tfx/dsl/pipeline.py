"""TFX's ``Pipeline`` and ``Importer`` signatures on pipelinekit's own."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from pipelinekit.dsl.importer import importer
from pipelinekit.dsl.metadata_config import MetadataConfig, mysql_metadata, sqlite_metadata
from pipelinekit.dsl.node import Node
from pipelinekit.dsl.pipeline import Pipeline as _Pipeline
from pipelinekit.errors import DefinitionError
from pipelinekit.types.artifact import Artifact

__all__ = ["ExecutionMode", "Pipeline", "Importer", "metadata_config_from_proto"]


class ExecutionMode(enum.Enum):
    """``tfx.dsl.ExecutionMode``: pipelinekit runs pipelines as TFX's SYNC mode does."""

    SYNC = 1
    ASYNC = 2


class Pipeline(_Pipeline):
    """``tfx.dsl.Pipeline``: ``metadata_connection_config`` is an ML Metadata ConnectionConfig
    (SQLite or MySQL); ``enable_cache`` defaults to False as in TFX; ``execution_mode`` must
    be SYNC. Arguments pipelinekit has no use for (platform_config, ...) are accepted and ignored."""

    def __init__(
        self,
        pipeline_name: str,
        pipeline_root: str = "",
        metadata_connection_config: Any = None,
        components: Sequence[Node] = (),
        enable_cache: bool = False,
        beam_pipeline_args: Sequence[str] | None = None,
        execution_mode: ExecutionMode = ExecutionMode.SYNC,
        **ignored: Any,
    ) -> None:
        if execution_mode != ExecutionMode.SYNC:
            raise DefinitionError(
                f"pipeline {pipeline_name!r}: execution_mode={execution_mode}: pipelinekit runs pipelines synchronously; "
                "use ExecutionMode.SYNC (the default)"
            )
        if not pipeline_root:
            raise DefinitionError(f"pipeline {pipeline_name!r}: pipeline_root is required; give the folder for its outputs")
        metadata = metadata_config_from_proto(metadata_connection_config) if metadata_connection_config is not None else None
        super().__init__(pipeline_name, pipeline_root, components, metadata, enable_cache, beam_pipeline_args or ())


def metadata_config_from_proto(config: Any) -> MetadataConfig:
    """pipelinekit's MetadataConfig for an ``ml_metadata`` ConnectionConfig proto."""
    kind = config.WhichOneof("config")
    if kind == "sqlite":
        return sqlite_metadata(config.sqlite.filename_uri)
    if kind == "mysql":
        mysql = config.mysql
        return mysql_metadata(mysql.host, mysql.database, mysql.user, mysql.password, mysql.port or 3306)
    raise DefinitionError(f"metadata_connection_config: only sqlite and mysql stores are supported, got {kind!r}")


def Importer(  # noqa: N802 - TFX's name
    source_uri: str,
    artifact_type: type[Artifact],
    reimport: bool = False,
    properties: dict[str, Any] | None = None,
    custom_properties: dict[str, Any] | None = None,
    output_key: str | None = None,
) -> Node:
    """``tfx.dsl.Importer``: registers ``source_uri`` in place as an ``artifact_type``
    artifact under ``outputs['result']``; its content is part of the cache key, so
    ``reimport`` is not needed."""
    if output_key not in (None, "result"):
        raise DefinitionError(f"Importer(output_key={output_key!r}): pipelinekit's importer output is always 'result'")
    return importer(source_uri, artifact_type, properties, custom_properties).with_id("Importer")

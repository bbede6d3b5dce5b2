"""ML Metadata: the store facade and lineage queries (ml_metadata is imported on first use)."""

from pipelinekit.dsl.metadata_config import sqlite_metadata  # so a layer above opens a store through this API alone
from pipelinekit.metadata.lineage import LineageStep, downstream, latest_output, render, upstream
from pipelinekit.metadata.store import ExecutionRecord, MetadataStore, RunRecord

__all__ = ["sqlite_metadata", "MetadataStore", "ExecutionRecord", "RunRecord", "LineageStep", "upstream", "downstream", "render", "latest_output"]

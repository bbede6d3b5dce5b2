"""ML Metadata: the store facade and lineage queries (ml_metadata is imported on first use)."""

from pipelinekit.metadata.lineage import LineageStep, downstream, latest_output, render, upstream
from pipelinekit.metadata.store import ExecutionRecord, MetadataStore, RunRecord

__all__ = ["MetadataStore", "ExecutionRecord", "RunRecord", "LineageStep", "upstream", "downstream", "render", "latest_output"]

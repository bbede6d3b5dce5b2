"""``Pipeline``: a named set of nodes, where they write, and how their metadata is kept."""

from __future__ import annotations

import os
from collections.abc import Sequence

from pipelinekit.dsl.metadata_config import MetadataConfig, sqlite_metadata
from pipelinekit.dsl.node import Node

__all__ = ["Pipeline"]


class Pipeline:
    """A DAG of nodes. Upstream nodes are found from the channels, so listing them is optional.

    ``metadata`` defaults to a SQLite store at ``<pipeline_root>/metadata.sqlite``;
    ``beam_pipeline_args`` configure the Beam pipelines that executors build.
    """

    def __init__(
        self,
        pipeline_name: str,
        pipeline_root: str,
        components: Sequence[Node],
        metadata: MetadataConfig | None = None,
        enable_cache: bool = True,
        beam_pipeline_args: Sequence[str] = (),
    ) -> None:
        self.pipeline_name = pipeline_name
        self.pipeline_root = os.path.abspath(pipeline_root)
        self.components = list(components)
        self.metadata = metadata or sqlite_metadata(os.path.join(self.pipeline_root, "metadata.sqlite"))
        self.enable_cache = enable_cache
        self.beam_pipeline_args = list(beam_pipeline_args)

    def all_nodes(self) -> list[Node]:
        """The listed nodes plus every node reachable upstream of them, listed ones first."""
        found: list[Node] = []
        pending = list(self.components)
        while pending:
            node = pending.pop(0)
            if any(node is seen for seen in found):
                continue
            found.append(node)
            pending.extend(n for n in node.upstream_nodes if isinstance(n, Node))
        return found

    def __repr__(self) -> str:
        return f"Pipeline({self.pipeline_name!r}, {len(self.components)} components, root={self.pipeline_root!r})"

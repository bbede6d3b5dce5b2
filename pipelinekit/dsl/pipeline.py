"""``Pipeline``: a named set of nodes, where they write, and how their metadata is kept."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from pipelinekit.dsl.metadata_config import MetadataConfig, sqlite_metadata
from pipelinekit.dsl.node import Channel, Node
from pipelinekit.errors import DefinitionError

__all__ = ["Pipeline"]


class Pipeline:
    """A DAG of nodes. Upstream nodes are found from the channels, so listing them is optional.

    ``metadata`` defaults to a SQLite store at ``<pipeline_root>/metadata.sqlite``; a path string
    means a SQLite store there. ``beam_pipeline_args`` configure the Beam pipelines that
    executors build. Every argument is checked here, so a mistake fails when the file is loaded.
    """

    def __init__(
        self,
        pipeline_name: str,
        pipeline_root: str,
        components: Sequence[Node],
        metadata: MetadataConfig | str | None = None,
        enable_cache: bool = True,
        beam_pipeline_args: Sequence[str] = (),
    ) -> None:
        problems = [
            *_name_problems(pipeline_name, pipeline_root),
            *_component_problems(components),
            *_flag_problems(enable_cache, beam_pipeline_args),
        ]
        config = _metadata_config(metadata, problems)
        if problems:
            lines = "\n".join(f"  - {p}" for p in problems)
            raise DefinitionError(f"Pipeline({pipeline_name!r}) is declared wrongly:\n{lines}")
        self.pipeline_name = pipeline_name
        self.pipeline_root = os.path.abspath(os.fspath(pipeline_root))
        self.components = list(components)
        self.metadata = config or sqlite_metadata(os.path.join(self.pipeline_root, "metadata.sqlite"))
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


def _name_problems(pipeline_name: Any, pipeline_root: Any) -> list[str]:
    problems = []
    if not isinstance(pipeline_name, str) or not pipeline_name:
        problems.append(f"pipeline_name must be a non-empty string, got {pipeline_name!r}")
    if not isinstance(pipeline_root, (str, os.PathLike)) or not os.fspath(pipeline_root):
        problems.append(f"pipeline_root must be a folder path, got {pipeline_root!r}")
    return problems


def _component_problems(components: Any) -> list[str]:
    if isinstance(components, Node):
        return [f"components must be a list of nodes, got the single node {components.id!r}: write components=[{components.id}]"]
    if isinstance(components, (str, bytes)) or not isinstance(components, Sequence):
        return [f"components must be a list of nodes, got {type(components).__name__} {components!r}"]
    return [problem for index, item in enumerate(components) if (problem := _item_problem(index, item))]


def _item_problem(index: int, item: Any) -> str | None:
    where = f"components[{index}]"
    if isinstance(item, Node):
        return None
    definition = getattr(item, "definition", None)
    if definition is not None and hasattr(definition, "spec"):
        return f"{where} is the component {definition.name!r} itself, not a node: call it, e.g. {definition.name}(...)"
    if isinstance(item, type) and hasattr(item, "definition"):
        return f"{where} is the component class {item.__name__!r}, not a node: instantiate it, e.g. {item.__name__}(...)"
    if isinstance(item, Channel):
        producer = f"its node {item.producer.id!r}" if item.producer is not None else "the node that reads it"
        return f"{where} is a channel ({item!r}), not a node: list {producer} instead"
    return f"{where} is {type(item).__name__} {item!r}, not a node made by calling a component"


def _flag_problems(enable_cache: Any, beam_pipeline_args: Any) -> list[str]:
    problems = []
    if not isinstance(enable_cache, bool):
        problems.append(f"enable_cache must be True or False, got {type(enable_cache).__name__} {enable_cache!r}")
    if isinstance(beam_pipeline_args, (str, bytes)):
        problems.append(
            f"beam_pipeline_args must be a list of flags, e.g. [{beam_pipeline_args!r}], not a single string "
            "(it would be read one character at a time)"
        )
    elif not isinstance(beam_pipeline_args, Sequence) or not all(isinstance(a, str) for a in beam_pipeline_args):
        problems.append(f"beam_pipeline_args must be a list of strings such as '--direct_num_workers=2', got {beam_pipeline_args!r}")
    return problems


def _metadata_config(metadata: Any, problems: list[str]) -> MetadataConfig | None:
    if metadata is None or isinstance(metadata, MetadataConfig):
        return metadata
    if isinstance(metadata, (str, os.PathLike)) and os.fspath(metadata):
        return sqlite_metadata(os.path.abspath(os.fspath(metadata)))
    problems.append(
        f"metadata must be a path to a SQLite file or a MetadataConfig from sqlite_metadata()/mysql_metadata(), "
        f"got {type(metadata).__name__} {metadata!r}"
    )
    return None

"""The frozen result of compiling a pipeline: nodes in dependency order, their wiring, and layers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipelinekit.dsl.metadata_config import MetadataConfig
from pipelinekit.dsl.node import Node

__all__ = ["Plan", "InputWiring"]


@dataclass(frozen=True)
class InputWiring:
    """Where one input comes from: ``producer``'s output ``output_key``."""

    producer: str
    output_key: str


@dataclass(frozen=True)
class Plan:
    """A validated pipeline, ready to run. ``layers`` group nodes whose upstream is all in earlier layers."""

    pipeline_name: str
    pipeline_root: str
    metadata: MetadataConfig
    enable_cache: bool
    beam_pipeline_args: tuple[str, ...]
    nodes: dict[str, Node]
    upstream: dict[str, tuple[str, ...]]
    wiring: dict[str, dict[str, InputWiring]]
    layers: tuple[tuple[str, ...], ...]
    runtime_parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def order(self) -> list[str]:
        """Node ids in a valid execution order."""
        return [node_id for layer in self.layers for node_id in layer]

    def parameters(self, node_id: str) -> dict[str, Any]:
        return self.nodes[node_id].parameters

    def downstream_of(self, node_id: str) -> set[str]:
        """Every node that depends, directly or not, on ``node_id``."""
        found: set[str] = set()
        for candidate in self.order:
            if any(up == node_id or up in found for up in self.upstream[candidate]):
                found.add(candidate)
        return found

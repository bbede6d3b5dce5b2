"""Declaring pipelines: components, nodes, channels, resolvers, conditions and the Pipeline itself."""

from pipelinekit.dsl.component import Component, ComponentDefinition, FunctionComponent, component
from pipelinekit.dsl.conditional import Cond
from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.dsl.importer import importer
from pipelinekit.dsl.loader import load_pipeline
from pipelinekit.dsl.metadata_config import MetadataConfig, mysql_metadata, sqlite_metadata
from pipelinekit.dsl.node import Channel, Node
from pipelinekit.dsl.pipeline import Pipeline
from pipelinekit.dsl.placeholder import Placeholder, Predicate, logical_and, logical_not, logical_or
from pipelinekit.dsl.resolver import (
    LatestArtifactStrategy,
    LatestBlessedModelStrategy,
    Resolver,
    ResolverStrategy,
    SpanRangeStrategy,
)
from pipelinekit.dsl.spec import ComponentSpec, InputSpec, OutputSpec, ParameterSpec

__all__ = [
    "component",
    "Component",
    "ComponentDefinition",
    "FunctionComponent",
    "ComponentSpec",
    "InputSpec",
    "OutputSpec",
    "ParameterSpec",
    "ExecutionContext",
    "Channel",
    "Node",
    "Pipeline",
    "importer",
    "load_pipeline",
    "MetadataConfig",
    "sqlite_metadata",
    "mysql_metadata",
    "Resolver",
    "ResolverStrategy",
    "LatestArtifactStrategy",
    "LatestBlessedModelStrategy",
    "SpanRangeStrategy",
    "Cond",
    "Placeholder",
    "Predicate",
    "logical_and",
    "logical_or",
    "logical_not",
]

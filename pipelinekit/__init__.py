"""pipelinekit: typed, declarative ML pipelines on Apache Beam, with ML Metadata lineage.

This package imports no TensorFlow, Beam or ML Metadata; they load when a run needs them.
"""

from pipelinekit.compile import Plan, compile_pipeline
from pipelinekit.dsl import (
    Channel,
    Component,
    ComponentDefinition,
    ExecutionContext,
    InputSpec,
    MetadataConfig,
    Node,
    OutputSpec,
    ParameterSpec,
    Pipeline,
    component,
    load_pipeline,
    mysql_metadata,
    sqlite_metadata,
)
from pipelinekit.errors import (
    CompileError,
    ComponentDefinitionError,
    ComponentFailedError,
    DefinitionError,
    MetadataError,
    MissingDependencyError,
    PipelineKitError,
    RunError,
    ServingError,
)
from pipelinekit.orchestration import BeamDagRunner, LocalDagRunner, NodeResult, RunResult
from pipelinekit.types import *  # noqa: F403 - the artifact types and annotations are public API
from pipelinekit.types import __all__ as _types_all
from pipelinekit.version import __version__

__all__ = [
    "__version__",
    "component",
    "Component",
    "ComponentDefinition",
    "InputSpec",
    "OutputSpec",
    "ParameterSpec",
    "ExecutionContext",
    "Channel",
    "Node",
    "Pipeline",
    "load_pipeline",
    "MetadataConfig",
    "sqlite_metadata",
    "mysql_metadata",
    "compile_pipeline",
    "Plan",
    "BeamDagRunner",
    "LocalDagRunner",
    "NodeResult",
    "RunResult",
    "PipelineKitError",
    "DefinitionError",
    "ComponentDefinitionError",
    "CompileError",
    "RunError",
    "ComponentFailedError",
    "MetadataError",
    "MissingDependencyError",
    "ServingError",
    *_types_all,
]

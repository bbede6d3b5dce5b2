"""Artifact types and the annotations that declare component arguments."""

from pipelinekit.types.annotations import InputArtifact, ModuleFile, OutputArtifact, Parameter
from pipelinekit.types.artifact import Artifact, Property, artifact_class_for
from pipelinekit.types.standard import (
    ExampleAnomalies,
    Examples,
    ExampleStatistics,
    HyperParameters,
    InferenceResult,
    InfraBlessing,
    Model,
    ModelBlessing,
    ModelEvaluation,
    ModelRun,
    PushedModel,
    Schema,
    TransformCache,
    TransformGraph,
)

__all__ = [
    "Artifact",
    "Property",
    "artifact_class_for",
    "InputArtifact",
    "OutputArtifact",
    "Parameter",
    "ModuleFile",
    "Examples",
    "ExampleStatistics",
    "Schema",
    "ExampleAnomalies",
    "TransformGraph",
    "TransformCache",
    "Model",
    "ModelRun",
    "HyperParameters",
    "ModelEvaluation",
    "ModelBlessing",
    "InfraBlessing",
    "PushedModel",
    "InferenceResult",
]

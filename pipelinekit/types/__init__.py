"""Artifact types and the annotations that declare component arguments."""

from pipelinekit.types import standard as _standard
from pipelinekit.types.annotations import ExternalPath, InputArtifact, ModuleFile, OutputArtifact, Parameter
from pipelinekit.types.artifact import Artifact, Property, artifact_class_for
from pipelinekit.types.standard import *  # noqa: F403

__all__ = [
    "Artifact",
    "Property",
    "artifact_class_for",
    "InputArtifact",
    "OutputArtifact",
    "Parameter",
    "ModuleFile",
    "ExternalPath",
    *_standard.__all__,
]

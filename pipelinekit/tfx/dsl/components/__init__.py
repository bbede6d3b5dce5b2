"""``tfx.v1.dsl.components``: the ``@component`` decorator and its annotations."""

from pipelinekit.dsl.component import component
from pipelinekit.types.annotations import (
    AsyncOutputArtifact,
    BeamComponentParameter,
    InputArtifact,
    OutputArtifact,
    OutputDict,
    Parameter,
)

__all__ = [
    "component",
    "InputArtifact",
    "OutputArtifact",
    "Parameter",
    "OutputDict",
    "BeamComponentParameter",
    "AsyncOutputArtifact",
]

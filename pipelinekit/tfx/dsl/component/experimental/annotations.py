"""``tfx.dsl.component.experimental.annotations``, as TFX's older guides import it."""

from pipelinekit.tfx.dsl.components import (
    AsyncOutputArtifact,
    BeamComponentParameter,
    InputArtifact,
    OutputArtifact,
    OutputDict,
    Parameter,
)

__all__ = ["InputArtifact", "OutputArtifact", "Parameter", "OutputDict", "BeamComponentParameter", "AsyncOutputArtifact"]

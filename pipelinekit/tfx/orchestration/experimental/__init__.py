"""``tfx.orchestration.experimental``: of TFX's experimental orchestration, the notebook context."""

from pipelinekit.tfx.orchestration.experimental import interactive

__all__ = ["interactive"]

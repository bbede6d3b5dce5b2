"""``tfx.dsl.component.experimental.decorators``, as TFX's older guides import it."""

from pipelinekit.dsl.component import component

__all__ = ["component"]

"""``tfx.orchestration.experimental.interactive``: running components one by one from a notebook."""

from pipelinekit.tfx.orchestration.experimental.interactive import interactive_context

__all__ = ["interactive_context"]

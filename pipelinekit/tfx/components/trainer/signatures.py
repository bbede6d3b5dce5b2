"""Marking SavedModel signatures as classify or regress, from ``pipelinekit.components.trainer.signatures``."""

from pipelinekit.components.trainer.signatures import *  # noqa: F403

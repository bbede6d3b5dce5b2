"""TFX's ``tfx.components.trainer.fn_args_utils``: ``FnArgs``, ``DataAccessor`` and the functions
that fill them, from ``pipelinekit.components.trainer.fn_args``."""

from pipelinekit.components.trainer.fn_args import *  # noqa: F403

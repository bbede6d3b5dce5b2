"""TFX's ``tfx.components.trainer.executor`` as module files import it: ``TrainerFnArgs``, the
deprecated name of ``FnArgs`` (the same class)."""

from __future__ import annotations

from pipelinekit.components.trainer.fn_args import FnArgs

__all__ = ["TrainerFnArgs"]

TrainerFnArgs = FnArgs

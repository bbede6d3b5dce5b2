"""Trainer: trains a model with the user's ``run_fn`` (TFX's generic Trainer)."""

from pipelinekit.components.trainer.component import Trainer

__all__ = ["Trainer"]

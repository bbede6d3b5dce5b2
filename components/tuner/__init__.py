"""Tuner: searches hyperparameters with keras-tuner from the user's ``tuner_fn``."""

from pipelinekit.components.tuner.component import Tuner, TunerFnResult

__all__ = ["Tuner", "TunerFnResult"]

"""Evaluator: TensorFlow Model Analysis over a candidate model, with a blessing verdict."""

from pipelinekit.components.evaluator.component import Evaluator

__all__ = ["Evaluator"]

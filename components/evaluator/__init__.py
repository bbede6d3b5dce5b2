"""Evaluator: TensorFlow Model Analysis over a candidate model, with a blessing verdict."""

from components.evaluator.component import Evaluator

__all__ = ["Evaluator"]

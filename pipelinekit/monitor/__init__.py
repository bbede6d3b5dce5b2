"""Watch what a model server answered, act on it, and turn it into the next training data.

``pipelinekit monitor`` (and the ModelMonitor component) reads the request logs the server writes
(:mod:`pipelinekit.serving.request_log`) window by window and, per model version that answered:
computes TFDV statistics of the served inputs and predictions, validates them against that
version's training statistics and schema (skew and drift comparators), joins labels keyed by
request id, computes TFMA metrics and a user ``value(prediction, label)``, applies a policy
(alert, switch a route target off, send a route to its fallback, roll back) and writes the joined
examples as a new ``{SPAN}`` for ExampleGen. Nothing here is imported by ``import pipelinekit``.
"""

from pipelinekit.monitor.component import ModelMonitor

__all__ = ["ModelMonitor"]

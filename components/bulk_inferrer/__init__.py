"""BulkInferrer: runs a model over Examples on Beam (Keras 3 models included)."""

from pipelinekit.components.bulk_inferrer.component import BulkInferrer

__all__ = ["BulkInferrer"]

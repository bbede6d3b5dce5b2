"""SavedModel warmup: replay the requests in ``assets.extra/tf_serving_warmup_requests``.

The file is a TFRecord of ``PredictionLog`` protos, as for TF Serving. Replaying them before a
version goes live runs the first-call work (tracing, allocation) off the request path.
"""

from __future__ import annotations

import logging
import os

import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from pipelinekit.serving.errors import ModelLoadError, StatusError
from pipelinekit.serving.inference import InferenceService
from pipelinekit.serving.servable import Servable

__all__ = ["MAX_WARMUP_RECORDS", "WARMUP_FILE", "warm_up"]

logger = logging.getLogger(__name__)

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
MAX_WARMUP_RECORDS = 1000  # TF Serving's limit


def warm_up(servable: Servable) -> int:
    """Replay the servable's warmup requests, if it has any; return how many ran.

    A failing record fails the load (as in TF Serving), so a broken model never goes live.
    """
    path = os.path.join(servable.path, WARMUP_FILE)
    if not os.path.exists(path):
        return 0
    service = InferenceService(lambda spec: servable)
    count = 0
    for record in tf.data.TFRecordDataset(path).take(MAX_WARMUP_RECORDS + 1).as_numpy_iterator():
        if count == MAX_WARMUP_RECORDS:
            raise ModelLoadError(
                f"{servable.describe()}: {path!r} has more than {MAX_WARMUP_RECORDS} warmup records",
                "INVALID_ARGUMENT",
            )
        _replay(service, prediction_log_pb2.PredictionLog.FromString(record), servable, count)
        count += 1
    logger.info("%s: replayed %d warmup requests", servable.describe(), count)
    return count


def _replay(
    service: InferenceService, log: prediction_log_pb2.PredictionLog, servable: Servable, index: int
) -> None:
    kind = log.WhichOneof("log_type")
    calls = {
        "predict_log": lambda: service.predict(log.predict_log.request),
        "classify_log": lambda: service.classify(log.classify_log.request),
        "regress_log": lambda: service.regress(log.regress_log.request),
        "multi_inference_log": lambda: service.multi_inference(log.multi_inference_log.request),
    }
    if kind not in calls:
        raise ModelLoadError(
            f"{servable.describe()}: warmup record {index} has unsupported log type {kind!r}",
            "INVALID_ARGUMENT",
        )
    try:
        calls[kind]()
    except StatusError as exc:
        raise ModelLoadError(
            f"{servable.describe()}: warmup record {index} ({kind}) failed: {exc}", exc.code
        ) from exc

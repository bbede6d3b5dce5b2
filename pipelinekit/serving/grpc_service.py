"""TF Serving's gRPC services, on the generated stubs of tensorflow-serving-api.

``tensorflow.serving.PredictionService`` and ``tensorflow.serving.ModelService``: each method
is a thin adapter that calls the shared implementation, maps our errors to gRPC status codes
and records metrics.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent import futures
from typing import TypeVar

import grpc
from tensorflow_serving.apis import (
    model_management_pb2,
    model_service_pb2_grpc,
    prediction_service_pb2_grpc,
)

from pipelinekit.serving.errors import StatusError
from pipelinekit.serving.inference import InferenceService
from pipelinekit.serving.metrics import ServerMetrics
from pipelinekit.serving.model_manager import ModelManager

__all__ = ["ModelServicer", "PredictionServicer", "create_grpc_server"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _handle(
    metrics: ServerMetrics, api: str, model: str, context: grpc.ServicerContext, call: Callable[[], T]
) -> T:
    """Run ``call``; answer a StatusError with its status code; record the outcome."""
    start = time.perf_counter()
    code = "OK"
    try:
        return call()
    except StatusError as exc:
        code = exc.code
        context.abort(grpc.StatusCode[code], str(exc))
    except Exception as exc:
        code = "INTERNAL"
        logger.exception("grpc %s for model %r failed", api, model)
        context.abort(
            grpc.StatusCode.INTERNAL, f"{api} for model {model!r} failed: {type(exc).__name__}: {exc}"
        )
    finally:
        metrics.observe(model, f"grpc.{api}", code, time.perf_counter() - start)


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    """tensorflow.serving.PredictionService."""

    def __init__(self, service: InferenceService, metrics: ServerMetrics) -> None:
        self._service = service
        self._metrics = metrics

    def Predict(self, request, context):
        return _handle(
            self._metrics, "Predict", request.model_spec.name, context, lambda: self._service.predict(request)
        )

    def Classify(self, request, context):
        return _handle(
            self._metrics,
            "Classify",
            request.model_spec.name,
            context,
            lambda: self._service.classify(request),
        )

    def Regress(self, request, context):
        return _handle(
            self._metrics, "Regress", request.model_spec.name, context, lambda: self._service.regress(request)
        )

    def MultiInference(self, request, context):
        model = request.tasks[0].model_spec.name if request.tasks else ""
        return _handle(
            self._metrics, "MultiInference", model, context, lambda: self._service.multi_inference(request)
        )

    def GetModelMetadata(self, request, context):
        return _handle(
            self._metrics,
            "GetModelMetadata",
            request.model_spec.name,
            context,
            lambda: self._service.metadata(request),
        )


class ModelServicer(model_service_pb2_grpc.ModelServiceServicer):
    """tensorflow.serving.ModelService: status and config reload."""

    def __init__(self, manager: ModelManager, metrics: ServerMetrics) -> None:
        self._manager = manager
        self._metrics = metrics

    def GetModelStatus(self, request, context):
        return _handle(
            self._metrics,
            "GetModelStatus",
            request.model_spec.name,
            context,
            lambda: self._manager.status_response(request.model_spec),
        )

    def HandleReloadConfigRequest(self, request, context):
        def reload() -> model_management_pb2.ReloadConfigResponse:
            self._manager.reload_config(request.config)
            return model_management_pb2.ReloadConfigResponse()

        return _handle(self._metrics, "HandleReloadConfigRequest", "", context, reload)


def create_grpc_server(
    service: InferenceService,
    manager: ModelManager,
    metrics: ServerMetrics,
    address: str,
    max_workers: int,
    max_request_bytes: int,
) -> tuple[grpc.Server, int]:
    """A gRPC server with both services, bound to ``address`` (port 0 picks a free one); not started."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="pipelinekit-grpc"),
        options=[("grpc.max_receive_message_length", max_request_bytes), ("grpc.so_reuseport", 0)],
    )
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionServicer(service, metrics), server
    )
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelServicer(manager, metrics), server)
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot bind the gRPC port at {address}; is it in use? Pick another with --port.")
    return server, port

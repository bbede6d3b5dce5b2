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
        code, message = exc.code, str(exc)
    except Exception as exc:
        code, message = "INTERNAL", f"{api} for model {model!r} failed: {type(exc).__name__}: {exc}"
        logger.exception("grpc %s for model %r failed", api, model)
    finally:
        metrics.observe(model, f"grpc.{api}", code, time.perf_counter() - start)
    context.abort(grpc.StatusCode[code], message)
    raise AssertionError("grpc's context.abort() returned instead of raising")


class _Servicer:
    """What both services share: error mapping and metrics around each call."""

    def __init__(self, metrics: ServerMetrics) -> None:
        self._metrics = metrics

    def _call(
        self, api: str, request, context: grpc.ServicerContext, method: Callable, model: str | None = None
    ):
        name = request.model_spec.name if model is None else model
        return _handle(self._metrics, api, name, context, lambda: method(request))


class PredictionServicer(_Servicer, prediction_service_pb2_grpc.PredictionServiceServicer):
    """tensorflow.serving.PredictionService."""

    def __init__(self, service: InferenceService, metrics: ServerMetrics) -> None:
        super().__init__(metrics)
        self._service = service

    def Predict(self, request, context):  # noqa: N802 - gRPC method names
        return self._call("Predict", request, context, self._service.predict)

    def Classify(self, request, context):  # noqa: N802
        return self._call("Classify", request, context, self._service.classify)

    def Regress(self, request, context):  # noqa: N802
        return self._call("Regress", request, context, self._service.regress)

    def MultiInference(self, request, context):  # noqa: N802
        model = request.tasks[0].model_spec.name if request.tasks else ""
        return self._call("MultiInference", request, context, self._service.multi_inference, model)

    def GetModelMetadata(self, request, context):  # noqa: N802
        return self._call("GetModelMetadata", request, context, self._service.metadata)


class ModelServicer(_Servicer, model_service_pb2_grpc.ModelServiceServicer):
    """tensorflow.serving.ModelService: status and config reload."""

    def __init__(self, manager: ModelManager, metrics: ServerMetrics) -> None:
        super().__init__(metrics)
        self._manager = manager

    def GetModelStatus(self, request, context):  # noqa: N802
        return self._call(
            "GetModelStatus", request, context, self._manager.status_response
        )

    def HandleReloadConfigRequest(self, request, context):  # noqa: N802
        return self._call("HandleReloadConfigRequest", request, context, self._reload, model="")

    def _reload(
        self, request: model_management_pb2.ReloadConfigRequest
    ) -> model_management_pb2.ReloadConfigResponse:
        self._manager.reload_config(request.config)
        return model_management_pb2.ReloadConfigResponse()


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
    try:
        return server, server.add_insecure_port(address)
    except RuntimeError as exc:
        raise OSError(
            f"cannot bind the gRPC port at {address}: is it in use? Pick another with --port."
        ) from exc

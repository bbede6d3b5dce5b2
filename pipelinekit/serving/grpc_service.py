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
from google.protobuf.message import DecodeError, Message
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    model_management_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from pipelinekit.serving.errors import InvalidInputError, StatusError
from pipelinekit.serving.inference import InferenceService
from pipelinekit.serving.metrics import ServerMetrics
from pipelinekit.serving.model_manager import ModelManager
from pipelinekit.serving.request_id import REQUEST_ID_HEADER, request_id, resolve_request_id
from pipelinekit.serving.router import ROUTE_KEY_HEADER, route_key

__all__ = ["MalformedRequest", "ModelServicer", "PredictionServicer", "create_grpc_server"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _handle(metrics: ServerMetrics, api: str, model: str, context: grpc.ServicerContext, call: Callable[[], T]) -> T:
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


class MalformedRequest:
    """Stands for request bytes that do not parse as the method's message, so the call can answer
    INVALID_ARGUMENT (gRPC itself would answer INTERNAL, the code of a server fault)."""

    def __init__(self, message_type: type[Message], error: Exception) -> None:
        self.message_type = message_type
        self.error = error


class _Servicer:
    """What both services share: error mapping and metrics around each call."""

    def __init__(self, metrics: ServerMetrics) -> None:
        self._metrics = metrics

    def _call(self, api: str, request, context: grpc.ServicerContext, method: Callable):
        metadata = dict(context.invocation_metadata())
        key = metadata.get(ROUTE_KEY_HEADER)
        token = route_key.set(key if isinstance(key, str) else None)  # the sticky-split key of a route
        rid = resolve_request_id(metadata.get(REQUEST_ID_HEADER))
        id_token = request_id.set(rid)  # written in the request log; labels are keyed by it
        context.set_trailing_metadata(((REQUEST_ID_HEADER, rid),))
        try:
            return _handle(self._metrics, api, _model_name(request), context, lambda: method(_parsed(request)))
        finally:
            request_id.reset(id_token)
            route_key.reset(token)


def _parsed(request):
    if isinstance(request, MalformedRequest):
        raise InvalidInputError(
            f"the request is not a valid {request.message_type.DESCRIPTOR.full_name} protobuf: {request.error}"
        )
    return request


def _model_name(request) -> str:
    """The model a request names, for metrics ("" when it names none or cannot be read)."""
    if isinstance(request, MalformedRequest):
        return ""
    if isinstance(request, inference_pb2.MultiInferenceRequest):
        return request.tasks[0].model_spec.name if request.tasks else ""
    spec = getattr(request, "model_spec", None)
    return spec.name if spec is not None else ""


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
        return self._call("MultiInference", request, context, self._service.multi_inference)

    def GetModelMetadata(self, request, context):  # noqa: N802
        return self._call("GetModelMetadata", request, context, self._service.metadata)


class ModelServicer(_Servicer, model_service_pb2_grpc.ModelServiceServicer):
    """tensorflow.serving.ModelService: status and config reload."""

    def __init__(self, manager: ModelManager, metrics: ServerMetrics) -> None:
        super().__init__(metrics)
        self._manager = manager

    def GetModelStatus(self, request, context):  # noqa: N802
        return self._call("GetModelStatus", request, context, self._manager.status_response)

    def HandleReloadConfigRequest(self, request, context):  # noqa: N802
        return self._call("HandleReloadConfigRequest", request, context, self._reload)

    def _reload(self, request: model_management_pb2.ReloadConfigRequest) -> model_management_pb2.ReloadConfigResponse:
        self._manager.reload_config(request.config)
        return model_management_pb2.ReloadConfigResponse()


def create_grpc_server(
    service: InferenceService,
    manager: ModelManager,
    metrics: ServerMetrics,
    address: str,
    max_workers: int,
    max_request_bytes: int,
    reuse_port: bool = False,
) -> tuple[grpc.Server, int]:
    """A gRPC server with both services, bound to ``address`` (port 0 picks a free one); not started.

    ``reuse_port`` binds with SO_REUSEPORT, so that several worker processes share the port.
    """
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="pipelinekit-grpc"),
        options=[("grpc.max_receive_message_length", max_request_bytes), ("grpc.so_reuseport", int(reuse_port))],
    )
    server.add_generic_rpc_handlers(
        (
            _service_handler("tensorflow.serving.PredictionService", _PREDICTION_METHODS, PredictionServicer(service, metrics)),
            _service_handler("tensorflow.serving.ModelService", _MODEL_METHODS, ModelServicer(manager, metrics)),
        )
    )
    try:
        return server, server.add_insecure_port(address)
    except RuntimeError as exc:
        raise OSError(f"cannot bind the gRPC port at {address}: is it in use? Pick another with --port.") from exc


# Each method's request and response messages, as in prediction_service.proto and model_service.proto.
_PREDICTION_METHODS: dict[str, tuple[type[Message], type[Message]]] = {
    "Classify": (classification_pb2.ClassificationRequest, classification_pb2.ClassificationResponse),
    "Regress": (regression_pb2.RegressionRequest, regression_pb2.RegressionResponse),
    "Predict": (predict_pb2.PredictRequest, predict_pb2.PredictResponse),
    "MultiInference": (inference_pb2.MultiInferenceRequest, inference_pb2.MultiInferenceResponse),
    "GetModelMetadata": (
        get_model_metadata_pb2.GetModelMetadataRequest,
        get_model_metadata_pb2.GetModelMetadataResponse,
    ),
}
_MODEL_METHODS: dict[str, tuple[type[Message], type[Message]]] = {
    "GetModelStatus": (get_model_status_pb2.GetModelStatusRequest, get_model_status_pb2.GetModelStatusResponse),
    "HandleReloadConfigRequest": (
        model_management_pb2.ReloadConfigRequest,
        model_management_pb2.ReloadConfigResponse,
    ),
}


def _service_handler(
    service: str, methods: dict[str, tuple[type[Message], type[Message]]], servicer: object
) -> grpc.GenericRpcHandler:
    """The service's handlers, as the generated ``add_*_to_server`` makes them, but with requests that
    do not parse passed on as :class:`MalformedRequest`."""
    handlers = {
        name: grpc.unary_unary_rpc_method_handler(
            getattr(servicer, name),
            request_deserializer=_lenient_parser(request_type),
            response_serializer=response_type.SerializeToString,
        )
        for name, (request_type, response_type) in methods.items()
    }
    return grpc.method_handlers_generic_handler(service, handlers)


def _lenient_parser(message_type: type[Message]) -> Callable[[bytes], Message | MalformedRequest]:
    def parse(data: bytes) -> Message | MalformedRequest:
        try:
            return message_type.FromString(data)
        except DecodeError as exc:
            return MalformedRequest(message_type, exc)

    return parse

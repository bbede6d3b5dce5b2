"""TF Serving's REST API as a Starlette ASGI app, plus metrics and health endpoints.

``GET /v1/models/{m}[/versions/{v}|/labels/{l}][/metadata]`` and
``POST /v1/models/{m}[/versions/{v}|/labels/{l}]:(predict|classify|regress)``; errors are
``{"error": "..."}`` with the HTTP status TF Serving gives each gRPC code. Model work runs in a
thread pool, so a slow model never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    input_pb2,
    model_pb2,
    regression_pb2,
)

from pipelinekit.serving.errors import (
    DeadlineExceededError,
    InvalidInputError,
    RequestTooLargeError,
    StatusError,
    http_status_for_code,
)
from pipelinekit.serving.inference import InferenceService
from pipelinekit.serving.metrics import CONTENT_TYPE, ServerMetrics
from pipelinekit.serving.model_manager import ModelManager
from pipelinekit.serving.router import ROUTE_KEY_HEADER, route_key
from pipelinekit.serving.servable import DEFAULT_SIGNATURE
from pipelinekit.serving.tensors import (
    examples_from_json,
    json_to_inputs,
    metadata_json,
    outputs_to_json,
    proto_json,
    request_input,
    to_json_value,
)

__all__ = ["HEALTH_PATH", "METRICS_PATH", "create_rest_app"]

METRICS_PATH = "/monitoring/prometheus/metrics"
HEALTH_PATH = "/healthz"

logger = logging.getLogger(__name__)

# TF Serving matches paths case-insensitively, but dispatches only the lower-case verbs and
# subresource: ":PREDICT" is a malformed request, "/METADATA" a status request.
_MODEL_PATH = re.compile(
    r"/v1/models/(?P<model>[^/:]+)(?:/versions/(?P<version>\d+)|/labels/(?P<label>[^/:]+))?"
    r"(?::(?P<verb>predict|classify|regress)|/(?P<metadata>metadata))?",
    re.IGNORECASE,
)
_API_PREFIX = re.compile(r"/v1/", re.IGNORECASE)
_MAX_VERSION = 2**63 - 1
T = TypeVar("T")


class _JSONResponse(JSONResponse):
    """JSON that writes NaN and Infinity for non-finite floats, as TF Serving does, instead of failing."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _RestHandlers:
    """The request handlers, sharing the services, the limits and the metrics."""

    def __init__(
        self,
        service: InferenceService,
        manager: ModelManager,
        metrics: ServerMetrics,
        max_request_bytes: int,
        timeout_s: float,
    ) -> None:
        self._service = service
        self._manager = manager
        self._metrics = metrics
        self._max_request_bytes = max_request_bytes
        self._timeout_s = timeout_s

    async def models(self, request: Request) -> Response:
        """Every ``/v1/...`` request (any case): parse the path, dispatch, answer JSON."""
        if not _API_PREFIX.match(request.url.path):
            return _JSONResponse({"error": f"Not found: {request.url.path}"}, status_code=404)
        start = time.perf_counter()
        match = _MODEL_PATH.fullmatch(request.url.path)
        model = match["model"] if match else ""
        api, code = _api_name(request.method, match), "OK"
        try:
            if match is None:
                raise InvalidInputError(f"Malformed request: {request.method} {request.url.path}")
            call = await self._dispatch(request, match, api)
            return _JSONResponse(await self._run(call))
        except StatusError as exc:
            code = exc.code
            status = 413 if isinstance(exc, RequestTooLargeError) else http_status_for_code(code)
            return _JSONResponse({"error": str(exc)}, status_code=status)
        except Exception as exc:
            code = "INTERNAL"
            logger.exception("REST %s %s failed", request.method, request.url.path)
            return _JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, status_code=500)
        finally:
            self._metrics.observe(model, api, code, time.perf_counter() - start)

    async def _dispatch(self, request: Request, match: re.Match[str], api: str) -> Callable[[], dict[str, Any]]:
        spec = model_pb2.ModelSpec(name=match["model"])
        if match["version"]:
            version = int(match["version"])
            if version > _MAX_VERSION:
                raise InvalidInputError(f"Failed to convert version: {match['version']} to numeric.")
            spec.version.value = version
        elif match["label"]:
            spec.version_label = match["label"]
        handlers = {"rest.predict": self._predict, "rest.classify": self._classify, "rest.regress": self._regress}
        if api in handlers:
            self._service.resolve(spec)  # an unknown model or version is NOT_FOUND before the body is read
            body = await self._read_json(request)
            spec.signature_name = _signature_name(body)
            handler = handlers[api]
            key = request.headers.get(ROUTE_KEY_HEADER)
            return lambda: _with_route_key(key, handler, spec, body)
        if api == "rest.metadata":
            return lambda: self._metadata(spec)
        if api == "rest.status":
            status_request = get_model_status_pb2.GetModelStatusRequest(model_spec=spec)
            return lambda: proto_json(self._manager.status_response(status_request))
        raise InvalidInputError(f"Malformed request: {request.method} {request.url.path}")

    async def _run(self, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            return await asyncio.wait_for(run_in_threadpool(call), self._timeout_s)
        except TimeoutError:
            raise DeadlineExceededError(
                f"the request took longer than --rest_api_timeout_in_ms ({self._timeout_s * 1000:.0f} ms)"
            ) from None

    async def _read_json(self, request: Request) -> dict[str, Any]:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self._max_request_bytes:
                raise RequestTooLargeError(
                    f"the request body is over {self._max_request_bytes} bytes; raise --max_request_bytes "
                    "or send less per request"
                )
        if not body.strip():
            raise InvalidInputError("JSON Parse error: The document is empty")
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            raise InvalidInputError(f"JSON Parse error: {exc}") from exc
        except RecursionError:
            raise InvalidInputError("JSON Parse error: the document is nested too deeply") from None
        if not isinstance(parsed, dict):
            raise InvalidInputError("the request body must be a JSON object")
        return parsed

    def _predict(self, spec: model_pb2.ModelSpec, body: dict[str, Any]) -> dict[str, Any]:
        servable = self._service.resolve(spec)
        where = servable.describe(spec.signature_name or DEFAULT_SIGNATURE)
        inputs, row_format = json_to_inputs(body, servable.signature_def(spec.signature_name), where)
        body.clear()  # the parsed JSON is several times the arrays' size: let it go before the answer is built
        # run exactly the version whose signature shaped the inputs
        outputs, answered = self._service.predict_for(servable, spec, inputs)
        answer = outputs_to_json(outputs, row_format, where)
        if answered.name != spec.name:  # a route: say which model and version answered
            answer["model_spec"] = {"name": answered.name, "version": str(answered.version.value)}
        return answer

    def _classify(self, spec: model_pb2.ModelSpec, body: dict[str, Any]) -> dict[str, Any]:
        request = classification_pb2.ClassificationRequest(model_spec=spec, input=_input(body, spec))
        result = self._service.classify(request).result
        return {"results": [_label_scores(row) for row in result.classifications]}

    def _regress(self, spec: model_pb2.ModelSpec, body: dict[str, Any]) -> dict[str, Any]:
        request = regression_pb2.RegressionRequest(model_spec=spec, input=_input(body, spec))
        values = [r.value for r in self._service.regress(request).result.regressions]
        return {"results": to_json_value(np.array(values, dtype=np.float32))}

    def _metadata(self, spec: model_pb2.ModelSpec) -> dict[str, Any]:
        request = get_model_metadata_pb2.GetModelMetadataRequest(
            model_spec=spec, metadata_field=["signature_def"]
        )
        return metadata_json(self._service.metadata(request))

    async def prometheus(self, request: Request) -> Response:
        return Response(self._metrics.render(), media_type=CONTENT_TYPE)

    async def health(self, request: Request) -> Response:
        """200 when every model serves at least one version, else 503 naming the ones that do not."""
        versions = self._manager.available_versions()
        waiting = sorted(name for name, served in versions.items() if not served)
        body: dict[str, Any] = {"status": "ok" if not waiting else "unavailable", "models": versions}
        if waiting:
            body["not_serving"] = waiting
        return _JSONResponse(body, status_code=503 if waiting else 200)


def _with_route_key(key: str | None, handler: Callable[..., T], *args: Any) -> T:
    """Run ``handler`` with the request's sticky-split key (header ``x-route-key``) in force."""
    token = route_key.set(key)
    try:
        return handler(*args)
    finally:
        route_key.reset(token)


def _api_name(method: str, match: re.Match[str] | None) -> str:
    """The API a request calls, as TF Serving dispatches it (``rest.unknown`` for a malformed one)."""
    if match is None:
        return "rest.unknown"
    if method == "POST" and match["verb"] in ("predict", "classify", "regress"):
        return f"rest.{match['verb']}"
    if method == "GET" and not match["verb"]:
        return "rest.metadata" if match["metadata"] == "metadata" else "rest.status"
    return "rest.unknown"


def _label_scores(classifications: classification_pb2.Classifications) -> list[list[Any]]:
    """One example's [label, score] pairs, scores written as the float32 values they are."""
    scores = to_json_value(np.array([c.score for c in classifications.classes], dtype=np.float32))
    return [[c.label, score] for c, score in zip(classifications.classes, scores)]


def _signature_name(body: dict[str, Any]) -> str:
    name = body.get("signature_name", "")
    if not isinstance(name, str):
        raise InvalidInputError(f"'signature_name' must be a string, got {name!r}")
    return name


def _input(body: dict[str, Any], spec: model_pb2.ModelSpec) -> input_pb2.Input:
    return request_input(*examples_from_json(body, f"model {spec.name!r}"))


def create_rest_app(
    service: InferenceService,
    manager: ModelManager,
    metrics: ServerMetrics,
    max_request_bytes: int,
    timeout_s: float,
) -> Starlette:
    """The ASGI app of the REST port."""
    handlers = _RestHandlers(service, manager, metrics, max_request_bytes, timeout_s)
    return Starlette(
        routes=[
            Route(METRICS_PATH, handlers.prometheus, methods=["GET"]),
            Route(HEALTH_PATH, handlers.health, methods=["GET"]),
            # Every method, so that one TF Serving does not serve is a JSON "Malformed request" too.
            Route("/{path:path}", handlers.models, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
        ]
    )

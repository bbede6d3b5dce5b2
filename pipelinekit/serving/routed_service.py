"""The PredictionService with routes and request logging in front of the served models.

A model_spec naming a route goes through the :class:`~pipelinekit.serving.router.Router`; any
other goes straight to the model, as before. Either way a sampled copy of the request and the
answer goes to the request log, off the request path.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    inference_pb2,
    model_pb2,
    predict_pb2,
    regression_pb2,
)

from pipelinekit.serving.errors import InvalidInputError
from pipelinekit.serving.inference import DEFAULT_MAX_TENSOR_BYTES, InferenceService, Resolver, Runner, run_direct
from pipelinekit.serving.request_log import RequestLog
from pipelinekit.serving.review_queue import ReviewQueue
from pipelinekit.serving.router import Router
from pipelinekit.serving.servable import Servable

__all__ = ["RoutedInferenceService"]

_RTOL = 1e-5  # answers of two models "agree" within float32 round-off


class RoutedInferenceService(InferenceService):
    """InferenceService, plus routes (``router``) and a request log (``request_log``, optional)."""

    def __init__(
        self,
        resolve: Resolver,
        router: Router,
        runner: Runner = run_direct,
        max_tensor_bytes: int = DEFAULT_MAX_TENSOR_BYTES,
        request_log: RequestLog | None = None,
        review: ReviewQueue | None = None,
    ) -> None:
        super().__init__(resolve, runner, max_tensor_bytes)
        self.router = router
        self.request_log = request_log
        self.review = review  # routes with a review option send low-confidence answers to people

    def resolve(self, spec: model_pb2.ModelSpec) -> Servable:
        """For a route, the servable its next request would most likely go to (for its signatures)."""
        return super().resolve(self._route_spec(spec) if self.router.is_route(spec.name) else spec)

    def _route_spec(self, spec: model_pb2.ModelSpec) -> model_pb2.ModelSpec:
        if spec.WhichOneof("version_choice"):
            raise InvalidInputError(
                f"{spec.name!r} is a route: it picks the model version itself; call it without a version or label"
            )
        return self.router.primary(spec.name)

    def predict(self, request: predict_pb2.PredictRequest) -> predict_pb2.PredictResponse:
        name = request.model_spec.name
        if self.router.is_route(name):
            self._route_spec(request.model_spec)
            base = super().predict
            response = self.router.call(
                name,
                request.model_spec.signature_name,
                lambda spec: base(_respec(request, spec)),
                _same_predict,
                lambda: _inputs_kind(
                    request.model_spec.signature_name,
                    {k: (t.dtype, [d.size for d in t.tensor_shape.dim]) for k, t in request.inputs.items()},
                ),
            )
            if self.review is not None:
                self.review.offer(name, request, response)
        else:
            response = super().predict(request)
        if self.request_log is not None:
            self.request_log.predict(name, request, response)
        return response

    def predict_for(
        self, servable: Servable, spec: model_pb2.ModelSpec, inputs: Mapping[str, np.ndarray]
    ) -> tuple[dict[str, np.ndarray], model_pb2.ModelSpec]:
        if self.router.is_route(spec.name):
            base = super().predict_for

            def run(target: model_pb2.ModelSpec) -> tuple[dict[str, np.ndarray], model_pb2.ModelSpec]:
                return base(super(RoutedInferenceService, self).resolve(target), target, inputs)

            outputs, answered = self.router.call(
                spec.name,
                spec.signature_name,
                run,
                _same_arrays,
                lambda: _inputs_kind(spec.signature_name, {k: (a.dtype.str, a.shape) for k, a in inputs.items()}),
            )
            if self.review is not None:
                self.review.offer(spec.name, inputs, (outputs, answered))
        else:
            outputs, answered = super().predict_for(servable, spec, inputs)
        if self.request_log is not None:
            self.request_log.predict_arrays(spec.name, spec, inputs, answered, outputs)
        return outputs, answered

    def classify(self, request: classification_pb2.ClassificationRequest) -> classification_pb2.ClassificationResponse:
        return self._routed(request, super().classify, _same_classes, "classify")

    def regress(self, request: regression_pb2.RegressionRequest) -> regression_pb2.RegressionResponse:
        return self._routed(request, super().regress, _same_values, "regress")

    def _routed(self, request: Any, direct: Callable[[Any], Any], agree: Callable[[Any, Any], bool], log_as: str) -> Any:
        """Classify or Regress: through the router when the name is a route, else ``direct``;
        logged either way. ``agree`` compares a shadow's answer with the one returned."""
        name = request.model_spec.name
        if self.router.is_route(name):
            self._route_spec(request.model_spec)
            response = self.router.call(
                name,
                request.model_spec.signature_name,
                lambda spec: direct(_respec(request, spec)),
                agree,
                lambda: _examples_kind(request),
            )
            if self.review is not None:
                self.review.offer(name, request, response)
        else:
            response = direct(request)
        if self.request_log is not None:
            getattr(self.request_log, log_as)(name, request, response)
        return response

    def multi_inference(self, request: inference_pb2.MultiInferenceRequest) -> inference_pb2.MultiInferenceResponse:
        names = {task.model_spec.name for task in request.tasks}
        routes = sorted(n for n in names if self.router.is_route(n))
        if routes:
            raise InvalidInputError(
                f"MultiInference does not go through routes ({routes}); call Classify or Regress on the route, "
                "or MultiInference on a served model"
            )
        return super().multi_inference(request)

    def metadata(
        self, request: get_model_metadata_pb2.GetModelMetadataRequest
    ) -> get_model_metadata_pb2.GetModelMetadataResponse:
        """For a route, the metadata of the target its requests go to first."""
        if self.router.is_route(request.model_spec.name):
            routed = get_model_metadata_pb2.GetModelMetadataRequest()
            routed.CopyFrom(request)
            routed.model_spec.CopyFrom(self._route_spec(request.model_spec))
            return super().metadata(routed)
        return super().metadata(request)


def _respec(request, spec: model_pb2.ModelSpec):
    """A copy of ``request`` sent to ``spec`` (each target gets its own: they may run at once)."""
    copy = type(request)()
    copy.CopyFrom(request)
    copy.model_spec.CopyFrom(spec)
    return copy


def _inputs_kind(signature_name: str, inputs: Mapping[str, tuple[Hashable, Any]]) -> Hashable:
    """What protection compares targets on for a Predict: the signature, and each input's name,
    dtype and shape past the batch dimension (``inputs``: name -> (dtype, shape)). Built from what
    the request says, unchecked, so that it never fails: a malformed request has a kind too."""
    return "predict", signature_name, tuple(sorted((name, dtype, tuple(shape[1:])) for name, (dtype, shape) in inputs.items()))


def _examples_kind(request: Any) -> Hashable:
    """What protection compares targets on for a Classify or Regress: the method, the signature,
    and the feature names of the first example and of the context."""
    examples = request.input.example_list.examples or request.input.example_list_with_context.examples
    first = sorted(examples[0].features.feature) if examples else []
    context = sorted(request.input.example_list_with_context.context.features.feature)
    return type(request).__name__, request.model_spec.signature_name, tuple(first), tuple(context)


def _same_arrays(a: tuple[dict[str, np.ndarray], object], b: tuple[dict[str, np.ndarray], object]) -> bool:
    return _arrays_agree(a[0], b[0])


def _arrays_agree(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray]) -> bool:
    if set(a) != set(b):
        return False
    for name in a:
        x, y = np.asarray(a[name]), np.asarray(b[name])
        if x.shape != y.shape:
            return False
        if x.dtype.kind in "fc" and y.dtype.kind in "fc":
            if not np.allclose(x, y, rtol=_RTOL, equal_nan=True):
                return False
        elif not np.array_equal(x, y):
            return False
    return True


def _same_predict(a: predict_pb2.PredictResponse, b: predict_pb2.PredictResponse) -> bool:
    decode = lambda response: {k: tf.make_ndarray(v) for k, v in response.outputs.items()}  # noqa: E731
    return _arrays_agree(decode(a), decode(b))


def _same_classes(a: classification_pb2.ClassificationResponse, b: classification_pb2.ClassificationResponse) -> bool:
    def table(response: classification_pb2.ClassificationResponse) -> tuple[list[list[str]], list[float]]:
        rows = response.result.classifications
        return [[c.label for c in r.classes] for r in rows], [c.score for r in rows for c in r.classes]

    (labels_a, scores_a), (labels_b, scores_b) = table(a), table(b)
    return labels_a == labels_b and _arrays_agree({"s": np.array(scores_a)}, {"s": np.array(scores_b)})


def _same_values(a: regression_pb2.RegressionResponse, b: regression_pb2.RegressionResponse) -> bool:
    values = lambda response: np.array([r.value for r in response.result.regressions])  # noqa: E731
    return _arrays_agree({"v": values(a)}, {"v": values(b)})

"""A small client for TF Serving's APIs (ours or TF Serving's own), over gRPC or REST.

    with Client("127.0.0.1:8500", "half_plus_two") as client:          # gRPC
        client.predict({"x": [[1.0], [2.0]]})["y"]
    with Client("http://127.0.0.1:8501", "half_plus_two") as client:   # REST
        client.regress([{"x": 1.0}], signature_name="regress_x_to_y")

Errors come back as the classes of ``pipelinekit.serving.errors`` (NotFoundError,
InvalidInputError, DeadlineExceededError, ...), with the server's message.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import grpc
import httpx
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from pipelinekit.serving.errors import (
    DeadlineExceededError,
    InvalidInputError,
    ServerUnavailableError,
    StatusError,
    error_for_code,
)
from pipelinekit.serving.status import VersionStatus
from pipelinekit.serving.tensors import (
    example_from_features,
    from_tensor_proto,
    metadata_json,
    request_input,
    to_tensor_proto,
)

if TYPE_CHECKING:
    from typing import Self

__all__ = ["Client"]

ExampleLike: TypeAlias = Mapping[str, Any] | tf.train.Example

_CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}  # 5 -> "NOT_FOUND"
_CODE_FOR_HTTP = {
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    413: "RESOURCE_EXHAUSTED",
    429: "RESOURCE_EXHAUSTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
    501: "UNIMPLEMENTED",
}


class Client:
    """Talks to one model on a TF-Serving-compatible server.

    ``address`` is ``host:port`` for gRPC or ``http://host:port`` for REST. ``version`` or
    ``label`` pins a version; by default the server picks the highest one it serves.
    Every call gives up after ``timeout_s`` seconds.
    """

    def __init__(
        self,
        address: str,
        model_name: str,
        *,
        version: int | None = None,
        label: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        if version is not None and label is not None:
            raise InvalidInputError(f"Client for model {model_name!r}: pass version or label, not both")
        self.address = address
        self.model_name = model_name
        self.version = version
        self.label = label
        self.timeout_s = timeout_s
        self.protocol = "rest" if address.startswith(("http://", "https://")) else "grpc"
        self._transport = _RestTransport(self) if self.protocol == "rest" else _GrpcTransport(self)

    def predict(
        self, inputs: Mapping[str, Any], *, signature_name: str = "", output_filter: Sequence[str] = ()
    ) -> dict[str, np.ndarray]:
        """Run a predict signature on named inputs (arrays or nested lists); named output arrays."""
        return self._transport.predict(dict(inputs), signature_name, list(output_filter))

    def classify(
        self, examples: Sequence[ExampleLike], *, signature_name: str = "", context: ExampleLike | None = None
    ) -> list[list[tuple[str, float]]]:
        """Classify tf.Examples (or dicts of feature values); per example, its (label, score) pairs."""
        return self._transport.classify(
            _examples(examples), _example(context) if context else None, signature_name
        )

    def regress(
        self, examples: Sequence[ExampleLike], *, signature_name: str = "", context: ExampleLike | None = None
    ) -> list[float]:
        """Regress tf.Examples (or dicts of feature values); one value per example."""
        return self._transport.regress(
            _examples(examples), _example(context) if context else None, signature_name
        )

    def status(self) -> list[VersionStatus]:
        """The state of each version of the model the server knows, newest first."""
        return self._transport.status()

    def metadata(self) -> dict[str, Any]:
        """The model's SignatureDefs as JSON, as TF Serving's REST metadata answer."""
        return self._transport.metadata()

    def wait_until_available(self, timeout_s: float = 60.0, poll_s: float = 0.2) -> VersionStatus:
        """Poll the status until a (pinned) version is AVAILABLE, or raise DeadlineExceededError."""
        deadline = time.monotonic() + timeout_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                available = [s for s in self.status() if s.state == "AVAILABLE"]
                if available:
                    return available[0]
            except StatusError as exc:
                last = exc
            time.sleep(poll_s)
        raise DeadlineExceededError(
            f"model {self.model_name!r} at {self.address} had no AVAILABLE version after {timeout_s} s "
            f"(last error: {last})"
        )

    def model_spec(self, signature_name: str = "") -> model_pb2.ModelSpec:
        """The ModelSpec of this client's model, version or label, and ``signature_name``."""
        spec = model_pb2.ModelSpec(name=self.model_name, signature_name=signature_name)
        if self.version is not None:
            spec.version.value = self.version
        elif self.label is not None:
            spec.version_label = self.label
        return spec

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _example(value: ExampleLike) -> tf.train.Example:
    return value if isinstance(value, tf.train.Example) else example_from_features(value)


def _examples(values: Sequence[ExampleLike]) -> list[tf.train.Example]:
    return [_example(value) for value in values]


class _GrpcTransport:
    def __init__(self, client: Client) -> None:
        self._client = client
        self._channel = grpc.insecure_channel(client.address)
        self._predictions = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._models = model_service_pb2_grpc.ModelServiceStub(self._channel)

    def _call(self, method, request):
        try:
            return method(request, timeout=self._client.timeout_s)
        except grpc.RpcError as exc:
            raise error_for_code(
                exc.code().name, f"{exc.details()} (gRPC {exc.code().name} from {self._client.address})"
            ) from None

    def predict(
        self, inputs: dict[str, Any], signature_name: str, output_filter: list[str]
    ) -> dict[str, np.ndarray]:
        request = predict_pb2.PredictRequest(
            model_spec=self._client.model_spec(signature_name), output_filter=output_filter
        )
        for name, value in inputs.items():
            request.inputs[name].CopyFrom(to_tensor_proto(value))
        response = self._call(self._predictions.Predict, request)
        return {name: from_tensor_proto(proto, name) for name, proto in response.outputs.items()}

    def classify(self, examples, context, signature_name: str) -> list[list[tuple[str, float]]]:
        request = classification_pb2.ClassificationRequest(
            model_spec=self._client.model_spec(signature_name), input=request_input(examples, context)
        )
        result = self._call(self._predictions.Classify, request).result
        return [[(c.label, c.score) for c in row.classes] for row in result.classifications]

    def regress(self, examples, context, signature_name: str) -> list[float]:
        request = regression_pb2.RegressionRequest(
            model_spec=self._client.model_spec(signature_name), input=request_input(examples, context)
        )
        return [r.value for r in self._call(self._predictions.Regress, request).result.regressions]

    def status(self) -> list[VersionStatus]:
        request = get_model_status_pb2.GetModelStatusRequest(model_spec=self._client.model_spec())
        response = self._call(self._models.GetModelStatus, request)
        return [
            VersionStatus(
                s.version,
                get_model_status_pb2.ModelVersionStatus.State.Name(s.state),
                _CODE_NAMES.get(s.status.error_code, "UNKNOWN"),
                s.status.error_message,
            )
            for s in response.model_version_status
        ]

    def metadata(self) -> dict[str, Any]:
        request = get_model_metadata_pb2.GetModelMetadataRequest(
            model_spec=self._client.model_spec(), metadata_field=["signature_def"]
        )
        return metadata_json(self._call(self._predictions.GetModelMetadata, request))

    def close(self) -> None:
        self._channel.close()


class _RestTransport:
    def __init__(self, client: Client) -> None:
        self._client = client
        self._http = httpx.Client(base_url=client.address, timeout=client.timeout_s)
        self._signatures: dict[str, Any] | None = None

    def _path(self) -> str:
        path = f"/v1/models/{self._client.model_name}"
        if self._client.version is not None:
            return f"{path}/versions/{self._client.version}"
        return f"{path}/labels/{self._client.label}" if self._client.label is not None else path

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.TimeoutException as exc:
            raise DeadlineExceededError(
                f"{method} {self._client.address}{path} timed out after {self._client.timeout_s} s"
            ) from exc
        except httpx.TransportError as exc:
            raise ServerUnavailableError(f"cannot reach {self._client.address}: {exc}") from exc
        if response.status_code != 200:
            code = _CODE_FOR_HTTP.get(response.status_code, "UNKNOWN")
            try:
                message = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                message = response.text
            raise error_for_code(
                code, f"{message} (HTTP {response.status_code} from {self._client.address}{path})"
            )
        return response.json()

    def _signature(self, signature_name: str) -> dict[str, Any]:
        if self._signatures is None:
            self._signatures = self.metadata()["metadata"]["signature_def"]["signature_def"]
        return self._signatures.get(signature_name or "serving_default", {"inputs": {}, "outputs": {}})

    def predict(
        self, inputs: dict[str, Any], signature_name: str, output_filter: list[str]
    ) -> dict[str, np.ndarray]:
        if output_filter:
            raise InvalidInputError(
                f"model {self._client.model_name!r}: TF Serving's REST predict API has no output_filter; "
                "use a gRPC address, or pick from the answer"
            )
        body = {
            "signature_name": signature_name,
            "inputs": {name: _json_input(value) for name, value in inputs.items()},
        }
        outputs = self._request("POST", f"{self._path()}:predict", body)["outputs"]
        signature = self._signature(signature_name)
        if not isinstance(outputs, dict) or set(outputs) != set(signature["outputs"]):
            outputs = {next(iter(signature["outputs"])): outputs}  # one output comes back unnamed
        return {
            name: _json_output(value, signature["outputs"].get(name, {})) for name, value in outputs.items()
        }

    def classify(self, examples, context, signature_name: str) -> list[list[tuple[str, float]]]:
        result = self._request(
            "POST", f"{self._path()}:classify", _examples_body(examples, context, signature_name)
        )["results"]
        return [[(label, float(score)) for label, score in row] for row in result]

    def regress(self, examples, context, signature_name: str) -> list[float]:
        return [
            float(v)
            for v in self._request(
                "POST", f"{self._path()}:regress", _examples_body(examples, context, signature_name)
            )["results"]
        ]

    def status(self) -> list[VersionStatus]:
        response = self._request("GET", self._path())
        return [
            VersionStatus(
                int(s["version"]), s["state"], s["status"]["error_code"], s["status"]["error_message"]
            )
            for s in response["model_version_status"]
        ]

    def metadata(self) -> dict[str, Any]:
        return self._request("GET", f"{self._path()}/metadata")

    def close(self) -> None:
        self._http.close()


def _json_input(value: Any) -> Any:
    array = np.asarray(value)
    if array.dtype.kind in "SUO":
        return _b64_strings(array.tolist())
    return array.tolist()


def _b64_strings(value: Any) -> Any:
    if isinstance(value, list):
        return [_b64_strings(item) for item in value]
    raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    return {"b64": base64.b64encode(raw).decode("ascii")}


def _json_output(value: Any, tensor_info: Mapping[str, Any]) -> np.ndarray:
    if tensor_info.get("dtype") == "DT_STRING":
        return np.array(_decode_json_strings(value), dtype=object)
    dtype = tf.dtypes.as_dtype(types_pb2.DataType.Value(tensor_info.get("dtype", "DT_FLOAT")))
    return np.asarray(value, dtype=dtype.as_numpy_dtype)


def _decode_json_strings(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode_json_strings(item) for item in value]
    if isinstance(value, dict):
        return base64.b64decode(value["b64"])
    return value.encode("utf-8")


def _examples_body(
    examples: list[tf.train.Example], context: tf.train.Example | None, signature_name: str
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "signature_name": signature_name,
        "examples": [_example_json(e) for e in examples],
    }
    if context is not None:
        body["context"] = _example_json(context)
    return body


def _example_json(example: tf.train.Example) -> dict[str, Any]:
    features = {}
    for name, feature in example.features.feature.items():
        kind = feature.WhichOneof("kind")
        if kind == "bytes_list":
            features[name] = [{"b64": base64.b64encode(v).decode("ascii")} for v in feature.bytes_list.value]
        elif kind is not None:
            features[name] = list(getattr(feature, kind).value)
    return features

"""Errors of the model server and the serving client.

Each class carries ``code``, the gRPC status code name TensorFlow Serving answers with for
that failure, so the gRPC and REST front ends and the client agree on one mapping.
"""

from __future__ import annotations

from pipelinekit.errors import ServingError

__all__ = [
    "DeadlineExceededError",
    "InvalidInputError",
    "ModelConfigError",
    "ModelLoadError",
    "ModelNotFoundError",
    "NotFoundError",
    "RemoteServingError",
    "RequestTooLargeError",
    "ServerUnavailableError",
    "ServingError",
    "SignatureNotFoundError",
    "StatusError",
    "TensorTooLargeError",
    "VersionNotFoundError",
    "WorkerStartError",
    "error_for_code",
    "http_status_for_code",
]


class StatusError(ServingError):
    """Base of the serving errors here; ``code`` names the gRPC status code to answer with."""

    code = "UNKNOWN"


class NotFoundError(StatusError):
    """A model or version the request names is not served."""

    code = "NOT_FOUND"


class ModelNotFoundError(NotFoundError):
    """No model of that name is configured, or none of its versions is loaded."""


class VersionNotFoundError(NotFoundError):
    """The model is served, but not the requested version or label."""


class InvalidInputError(StatusError):
    """The request is malformed or does not match the signature."""

    code = "INVALID_ARGUMENT"


class SignatureNotFoundError(StatusError):
    """The requested signature is not in the SavedModel.

    Predict answers FAILED_PRECONDITION, Classify and Regress INVALID_ARGUMENT, as TF Serving does.
    """

    def __init__(self, message: str, code: str = "FAILED_PRECONDITION") -> None:
        super().__init__(message)
        self.code = code


class ModelLoadError(StatusError):
    """A model version could not be loaded or warmed up; the previous version keeps serving.

    ``code`` is the cause's status code, as TF Serving reports it in GetModelStatus: NOT_FOUND
    for a missing saved_model.pb, DATA_LOSS for an unreadable one, the TensorFlow error's code
    for a failed load, the failing request's code for a failed warmup.
    """

    def __init__(self, message: str, code: str = "UNKNOWN") -> None:
        super().__init__(message)
        self.code = code


class ModelConfigError(StatusError):
    """The model server configuration (flags or model config file) is invalid.

    FAILED_PRECONDITION where the config is well formed but cannot be applied now (a version
    label naming a version that is not serving), as TF Serving answers.
    """

    def __init__(self, message: str, code: str = "INVALID_ARGUMENT") -> None:
        super().__init__(message)
        self.code = code


class RequestTooLargeError(StatusError):
    """The request body is larger than the server accepts."""

    code = "RESOURCE_EXHAUSTED"


class TensorTooLargeError(StatusError):
    """A request's tensors would decode to more bytes than the server allows (--max_tensor_bytes)."""

    code = "RESOURCE_EXHAUSTED"


class DeadlineExceededError(StatusError):
    """The request did not finish within its timeout."""

    code = "DEADLINE_EXCEEDED"


class ServerUnavailableError(StatusError):
    """The server cannot be reached, or is shutting down."""

    code = "UNAVAILABLE"


class WorkerStartError(StatusError):
    """A worker process of ``serve --num_workers N`` did not start; the supervisor stopped the others."""

    code = "UNAVAILABLE"


class RemoteServingError(StatusError):
    """The server answered with an error that has no more specific class here."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


_CLASS_FOR_CODE: dict[str, type[StatusError]] = {
    "NOT_FOUND": NotFoundError,
    "INVALID_ARGUMENT": InvalidInputError,
    "RESOURCE_EXHAUSTED": RequestTooLargeError,
    "DEADLINE_EXCEEDED": DeadlineExceededError,
    "UNAVAILABLE": ServerUnavailableError,
}

# The HTTP status TF Serving's REST front end gives each gRPC status code.
_HTTP_STATUS_FOR_CODE: dict[str, int] = {
    "OK": 200,
    "CANCELLED": 499,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "UNAUTHENTICATED": 401,
}


def error_for_code(code: str, message: str) -> StatusError:
    """Build the client-side error for a status code the server answered with."""
    cls = _CLASS_FOR_CODE.get(code)
    if cls is None:
        return RemoteServingError(message, code)
    return cls(message)


def http_status_for_code(code: str) -> int:
    """The HTTP status for a gRPC status code name (500 for the internal ones)."""
    return _HTTP_STATUS_FOR_CODE.get(code, 500)

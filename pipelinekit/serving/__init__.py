"""A TensorFlow-Serving-compatible model server and client.

``import pipelinekit.serving`` is cheap: the names below load their modules (and TensorFlow,
gRPC, Starlette) on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelinekit.serving.batching import BatchingOptions
    from pipelinekit.serving.client import Client
    from pipelinekit.serving.errors import (
        DeadlineExceededError,
        InvalidInputError,
        ModelConfigError,
        ModelLoadError,
        ModelNotFoundError,
        NotFoundError,
        RemoteServingError,
        RequestTooLargeError,
        ServerUnavailableError,
        SignatureNotFoundError,
        StatusError,
        VersionNotFoundError,
    )
    from pipelinekit.serving.model_config import read_model_config_file, single_model_config
    from pipelinekit.serving.server import ModelServer, ServerOptions
    from pipelinekit.serving.status import VersionStatus

__all__ = [
    "BatchingOptions",
    "Client",
    "DeadlineExceededError",
    "InvalidInputError",
    "ModelConfigError",
    "ModelLoadError",
    "ModelNotFoundError",
    "ModelServer",
    "NotFoundError",
    "RemoteServingError",
    "RequestTooLargeError",
    "ServerOptions",
    "ServerUnavailableError",
    "SignatureNotFoundError",
    "StatusError",
    "VersionNotFoundError",
    "VersionStatus",
    "read_model_config_file",
    "single_model_config",
]

_MODULE_OF = {
    "BatchingOptions": "batching",
    "Client": "client",
    "DeadlineExceededError": "errors",
    "InvalidInputError": "errors",
    "ModelConfigError": "errors",
    "ModelLoadError": "errors",
    "ModelNotFoundError": "errors",
    "NotFoundError": "errors",
    "RemoteServingError": "errors",
    "RequestTooLargeError": "errors",
    "ServerUnavailableError": "errors",
    "SignatureNotFoundError": "errors",
    "StatusError": "errors",
    "VersionNotFoundError": "errors",
    "ModelServer": "server",
    "ServerOptions": "server",
    "VersionStatus": "status",
    "read_model_config_file": "model_config",
    "single_model_config": "model_config",
}


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first access (PEP 562)."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'pipelinekit.serving' has no attribute {name!r}")
    return getattr(importlib.import_module(f"pipelinekit.serving.{module}"), name)

"""The model server's configuration: which models to serve from which base paths.

The configuration is TF Serving's own ``ModelServerConfig`` proto, read from the same text
file format as ``tensorflow_model_server --model_config_file``, so one file works for both.
"""

from __future__ import annotations

import logging
import os
from typing import TypeAlias

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from pipelinekit.serving.errors import ModelConfigError

__all__ = [
    "ModelConfig",
    "ModelServerConfig",
    "read_model_config_file",
    "single_model_config",
    "validate_config",
]

logger = logging.getLogger(__name__)

ModelServerConfig: TypeAlias = model_server_config_pb2.ModelServerConfig
ModelConfig: TypeAlias = model_server_config_pb2.ModelConfig


def single_model_config(model_name: str, model_base_path: str) -> ModelServerConfig:
    """The configuration ``--model_name`` and ``--model_base_path`` stand for."""
    config = ModelServerConfig()
    model = config.model_config_list.config.add()
    model.name = model_name
    model.base_path = model_base_path
    model.model_platform = "tensorflow"
    return validate_config(config)


def read_model_config_file(path: str) -> ModelServerConfig:
    """Parse a ``ModelServerConfig`` text proto file and check it."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ModelConfigError(
            f"cannot read the model config file {path!r}: {exc.strerror}. Pass an existing file to "
            "--model_config_file."
        ) from exc
    try:
        config = text_format.Parse(text, ModelServerConfig())
    except text_format.ParseError as exc:
        raise ModelConfigError(
            f"the model config file {path!r} is not a valid ModelServerConfig text proto: {exc}. "
            "Expected the form: model_config_list { config { name: 'm' base_path: '/models/m' } }"
        ) from exc
    return validate_config(config, source=path)


def validate_config(config: ModelServerConfig, source: str = "the model server config") -> ModelServerConfig:
    """Check what the server relies on; raise one error naming every problem found."""
    if config.HasField("custom_model_config"):
        raise ModelConfigError(f"{source}: custom_model_config is not supported; use model_config_list.")
    problems: list[str] = []
    seen: set[str] = set()
    for model in config.model_config_list.config:
        problems.extend(_model_problems(model, seen))
        seen.add(model.name)
    if problems:
        raise ModelConfigError(f"{source} has {len(problems)} problem(s): " + "; ".join(problems))
    return config


def _model_problems(model: ModelConfig, seen: set[str]) -> list[str]:
    problems = []
    if not model.name:
        problems.append(f"a model with base_path {model.base_path!r} has no name")
    elif model.name in seen:
        problems.append(f"model {model.name!r} is configured twice; model names must be unique")
    if not model.base_path:
        problems.append(f"model {model.name!r} has no base_path")
    elif not os.path.isdir(model.base_path):
        problems.append(f"model {model.name!r}: base_path {model.base_path!r} is not a directory")
    if model.model_platform not in ("", "tensorflow"):
        problems.append(
            f"model {model.name!r}: model_platform {model.model_platform!r} is not supported (use "
            "'tensorflow')"
        )
    return problems

"""TFDV's ``CustomValidationConfig`` as the validators store it: text format in a ``str``
parameter, so the component module never imports TFDV (its proto package loads TensorFlow)."""

from __future__ import annotations

from typing import Any

__all__ = ["custom_validation_text", "parse_custom_validation"]


def custom_validation_text(config: Any) -> str | None:
    """The parameter value for a ``CustomValidationConfig`` given as a proto or its text."""
    if config is None or isinstance(config, str):
        return config
    from google.protobuf import text_format

    return text_format.MessageToString(config)


def parse_custom_validation(text: str | None) -> Any:
    """The ``CustomValidationConfig`` a parameter holds, or None when unset."""
    if not text:
        return None
    from google.protobuf import text_format
    from tensorflow_data_validation.anomalies.proto import custom_validation_config_pb2

    return text_format.Parse(text, custom_validation_config_pb2.CustomValidationConfig())

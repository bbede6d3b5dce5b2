"""How class components take TFX's constructor arguments.

TFX stores protos as exec properties holding ``proto_to_json(...)``; we store the same JSON
strings as ``str`` parameters, so the cache key, MLMD and the executor see what TFX's do.
Dicts and lists stay JSON-able values. A run-time placeholder (``channel.future()[0].value``)
passes through unchanged: the core resolves it to a string before the executor runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message
from pipelinekit.components.util.errors import ComponentArgumentError
from pipelinekit.components.util.proto_utils import json_to_proto, proto_to_json

from pipelinekit.dsl.placeholder import Placeholder

__all__ = ["proto_argument", "required_proto_argument", "parse_proto", "given"]


def proto_argument(value: Message | str | Placeholder | None, expected: type[Message], name: str, component: str) -> Any:
    """The parameter value for a proto argument: its JSON, a placeholder, or None when unset.

    A JSON string is accepted after checking that it parses, so a pipeline can pass what
    another tool wrote.
    """
    if value is None or isinstance(value, Placeholder):
        return value
    if isinstance(value, str):
        try:
            json_to_proto(value, expected())
        except Exception as error:
            raise ComponentArgumentError(f"{component}({name}=...): not the JSON of a {expected.__name__}: {error}") from error
        return value
    if not isinstance(value, expected):
        raise ComponentArgumentError(
            f"{component}({name}=...) takes a {expected.DESCRIPTOR.full_name} (e.g. tfx.proto.{expected.__name__}(...)), "
            f"got {type(value).__name__}"
        )
    return proto_to_json(value)


def required_proto_argument(
    value: Message | str | Placeholder | None,
    expected: type[Message],
    name: str,
    component: str,
    check: Callable[[Any], None] | None = None,
) -> Any:
    """``proto_argument`` for an argument the component cannot do without; ``check`` vets a
    proto given as a message (a JSON string or a placeholder is only known at run time)."""
    if value is None:
        raise ComponentArgumentError(f"{component}: {name}= is required (a tfx.proto.{expected.__name__})")
    if check is not None and isinstance(value, expected):
        check(value)
    return proto_argument(value, expected, name, component)


def parse_proto(json_text: str | None, message_type: type[Message]) -> Any:
    """The proto a parameter holds (an empty message when the parameter is unset)."""
    message = message_type()
    return json_to_proto(json_text, message) if json_text else message


def given(**arguments: Any) -> dict[str, Any]:
    """The arguments that were actually given, so unset ones take the component's defaults."""
    return {key: value for key, value in arguments.items() if value is not None}

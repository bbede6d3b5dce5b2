"""``tfx.v1.utils``: ``parse_pbtxt_file`` and ``JsonableType``; also ``proto_utils``."""

from __future__ import annotations

from typing import Any, TypeVar, Union

from google.protobuf import text_format
from google.protobuf.message import Message

__all__ = ["parse_pbtxt_file", "JsonableType"]

JsonableType = Union[None, bool, int, float, str, list[Any], dict[str, Any]]
M = TypeVar("M", bound=Message)


def parse_pbtxt_file(file_name: str, message: M) -> M:
    """Parse the text-format proto in ``file_name`` into ``message`` and return it."""
    with open(file_name) as handle:
        text_format.Parse(handle.read(), message)
    return message

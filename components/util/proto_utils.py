"""Proto <-> JSON as TFX stores protos in exec properties: sorted keys, proto field names,
and unknown fields ignored when parsing (so configs written by a newer version still load)."""

from __future__ import annotations

from typing import TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

__all__ = ["proto_to_json", "json_to_proto"]

M = TypeVar("M", bound=Message)


def proto_to_json(proto: Message) -> str:
    """The JSON TFX writes for ``proto``: keys sorted, field names as in the .proto file."""
    return json_format.MessageToJson(proto, sort_keys=True, preserving_proto_field_name=True)


def json_to_proto(json_str: str, proto: M) -> M:
    """Parse ``json_str`` into ``proto`` (merged in place and returned), ignoring unknown fields."""
    json_format.Parse(json_str, proto, ignore_unknown_fields=True)
    return proto

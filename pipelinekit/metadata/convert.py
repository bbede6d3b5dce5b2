"""Conversions between pipelinekit objects and ml_metadata protos.

Only imported by modules that already need ml_metadata, so the core stays light.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2
from ml_metadata.proto import metadata_store_pb2 as mlmd

from pipelinekit.types.artifact import Artifact, artifact_class_for

__all__ = ["to_value", "from_value", "artifact_type_proto", "artifact_to_proto", "artifact_from_proto", "ARTIFACT_STATES"]

_PROPERTY_TYPE = {int: mlmd.INT, float: mlmd.DOUBLE, str: mlmd.STRING}
ARTIFACT_STATES = {"PENDING": mlmd.Artifact.PENDING, "LIVE": mlmd.Artifact.LIVE, "DELETED": mlmd.Artifact.DELETED}
_LIST_KEY = "__list__"


def to_value(value: Any) -> mlmd.Value:
    """Wrap a Python value (int, float, str, bool, dict, list) in an MLMD Value."""
    if isinstance(value, bool):
        return mlmd.Value(bool_value=value)
    if isinstance(value, int):
        return mlmd.Value(int_value=value)
    if isinstance(value, float):
        return mlmd.Value(double_value=value)
    if isinstance(value, str):
        return mlmd.Value(string_value=value)
    struct = struct_pb2.Struct()
    struct.update({_LIST_KEY: value} if isinstance(value, list) else value)
    return mlmd.Value(struct_value=struct)


def from_value(value: mlmd.Value) -> Any:
    """Unwrap an MLMD Value into the Python value :func:`to_value` was given."""
    kind = value.WhichOneof("value")
    if kind == "struct_value":
        data = json_format.MessageToDict(value.struct_value)
        return data[_LIST_KEY] if set(data) == {_LIST_KEY} else data
    return getattr(value, kind) if kind else None


def artifact_type_proto(cls: type[Artifact]) -> mlmd.ArtifactType:
    """The MLMD ArtifactType for an Artifact class, with its typed properties."""
    proto = mlmd.ArtifactType(name=cls.TYPE_NAME)
    for name, prop in cls.PROPERTIES.items():
        proto.properties[name] = _PROPERTY_TYPE[prop.value_type]
    return proto


def artifact_to_proto(artifact: Artifact, type_id: int) -> mlmd.Artifact:
    """The MLMD Artifact for ``artifact``; keeps its id so a stored artifact is updated, not copied."""
    proto = mlmd.Artifact(type_id=type_id, uri=artifact.uri, state=ARTIFACT_STATES[artifact.state])
    if artifact.id is not None:
        proto.id = artifact.id
    for key, value in artifact.properties.items():
        if value is not None:
            proto.properties[key].CopyFrom(to_value(value))
    for key, value in artifact.custom_properties.items():
        proto.custom_properties[key].CopyFrom(to_value(value))
    return proto


def artifact_from_proto(proto: mlmd.Artifact, type_name: str) -> Artifact:
    """Rebuild the typed Artifact that ``proto`` stores."""
    artifact = artifact_class_for(type_name)(proto.uri)
    artifact.id = proto.id
    artifact.state = mlmd.Artifact.State.Name(proto.state)
    for key, value in proto.properties.items():
        artifact.properties[key] = from_value(value)
    artifact.custom_properties = {k: from_value(v) for k, v in proto.custom_properties.items()}
    return artifact

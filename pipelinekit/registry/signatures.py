"""The two things whose change makes a new major version: the serving signatures and the
schema's required features. Both are read from files once, when a version is registered."""

from __future__ import annotations

import hashlib
import logging
import os

__all__ = ["required_features", "signature_digest", "version_files_present"]

logger = logging.getLogger(__name__)


def version_files_present(serving_path: str) -> bool:
    """Whether a pushed version's SavedModel is still where it was pushed."""
    return os.path.isfile(os.path.join(serving_path, "saved_model.pb"))


def signature_digest(serving_path: str) -> str:
    """A digest of the SavedModel's serving signatures: each signature's name, method, and its
    inputs' and outputs' names, dtypes and shapes ("" when the files are gone or unreadable).
    Retraining keeps it; adding an input or changing a dtype changes it."""
    if not version_files_present(serving_path):
        return ""
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel()
    try:
        with open(os.path.join(serving_path, "saved_model.pb"), "rb") as handle:
            saved.ParseFromString(handle.read())
    except (OSError, ValueError) as error:
        logger.warning("cannot read the signatures of %s: %s", serving_path, error)
        return ""
    lines = []
    for graph in saved.meta_graphs:
        for name, signature in sorted(graph.signature_def.items()):
            lines.append(f"{name} {signature.method_name}")
            for kind, tensors in (("in", signature.inputs), ("out", signature.outputs)):
                for key, info in sorted(tensors.items()):
                    dims = ",".join(str(d.size) for d in info.tensor_shape.dim)
                    lines.append(f"  {kind} {key} {info.dtype} [{dims}]")
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def required_features(schema_uri: str) -> list[str]:
    """Features the schema requires in every example (presence min_fraction 1), sorted."""
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    path = os.path.join(schema_uri, "schema.pbtxt")
    try:
        with open(path) as handle:
            schema = text_format.Parse(handle.read(), schema_pb2.Schema())
    except (OSError, text_format.ParseError) as error:
        logger.warning("cannot read the schema %s: %s", path, error)
        return []
    return sorted(f.name for f in schema.feature if f.presence.min_fraction >= 1.0)

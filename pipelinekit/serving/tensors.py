"""Conversions between TensorProtos, numpy arrays, JSON values and tf.Examples.

The JSON forms are TF Serving's REST forms: row (``instances``) and columnar (``inputs``)
requests, ``predictions`` and ``outputs`` answers, and ``{"b64": "..."}`` for bytes.
"""

from __future__ import annotations

import base64
import binascii
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from google.protobuf.message import Message
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import get_model_metadata_pb2, input_pb2

from pipelinekit.serving.errors import InvalidInputError
from pipelinekit.serving.json_values import json_to_array
from pipelinekit.serving.tensor_checks import value_field

__all__ = [
    "example_from_features",
    "examples_from_json",
    "fill_tensor_proto",
    "from_tensor_proto",
    "json_to_inputs",
    "outputs_to_json",
    "metadata_json",
    "proto_json",
    "request_input",
    "stack_examples",
    "to_json_value",
    "to_tensor_proto",
]


def to_tensor_proto(value: Any) -> tensor_pb2.TensorProto:
    """A TensorProto of an array-like value (numpy array, list, scalar, bytes)."""
    return tf.make_tensor_proto(value)


def fill_tensor_proto(proto: tensor_pb2.TensorProto, array: np.ndarray) -> None:
    """Write a numpy array into ``proto`` (a response's output, filled in place).

    Numbers go in as ``tensor_content``, the array's bytes, which is what ``make_tensor_proto``
    writes too but at a tenth of its cost per call; strings (and a big-endian host) take
    ``make_tensor_proto``'s path.
    """
    if array.dtype.kind in "OSU" or sys.byteorder != "little":
        proto.CopyFrom(tf.make_tensor_proto(array))
        return
    proto.dtype = tf.dtypes.as_dtype(array.dtype).as_datatype_enum
    for size in array.shape:
        proto.tensor_shape.dim.add(size=size)
    proto.tensor_content = np.ascontiguousarray(array).tobytes()


# The dtypes decoded without TensorFlow, and their numpy dtypes.
_DIRECT_DECODE: dict[int, np.dtype] = {
    types_pb2.DT_FLOAT: np.dtype(np.float32),
    types_pb2.DT_DOUBLE: np.dtype(np.float64),
    types_pb2.DT_INT32: np.dtype(np.int32),
    types_pb2.DT_INT64: np.dtype(np.int64),
    types_pb2.DT_BOOL: np.dtype(np.bool_),
}


def from_tensor_proto(proto: tensor_pb2.TensorProto, name: str = "") -> np.ndarray:
    """The numpy array a TensorProto holds; a malformed proto is an InvalidInputError naming ``name``.

    The common numeric dtypes are read straight from the proto's bytes or value field (a third
    of ``tf.make_ndarray``'s cost); the rest go through TensorFlow.
    """
    dtype = _DIRECT_DECODE.get(proto.dtype)
    if dtype is not None and sys.byteorder == "little":
        return _decode_numeric(proto, dtype, value_field(proto.dtype), name)
    try:
        return tf.make_ndarray(proto)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"input {name!r} is not a valid TensorProto: {exc}") from exc


def _decode_numeric(proto: tensor_pb2.TensorProto, dtype: np.dtype, field: str, name: str) -> np.ndarray:
    """As ``tf.make_ndarray``: the content bytes, else every value, one value repeated, or zeros."""
    shape = [dim.size for dim in proto.tensor_shape.dim]
    elements = 1
    for size in shape:
        elements *= size
    if proto.tensor_content:
        if len(proto.tensor_content) != elements * dtype.itemsize:
            raise InvalidInputError(
                f"input {name!r} is not a valid TensorProto: tensor_content has {len(proto.tensor_content)} "
                f"bytes for {elements} elements of {dtype.name}"
            )
        return np.frombuffer(proto.tensor_content, dtype=dtype).reshape(shape).copy()  # writable, owned
    values = getattr(proto, field)
    if len(values) == elements:
        return np.array(values, dtype=dtype).reshape(shape)
    if len(values) > elements:
        raise InvalidInputError(
            f"input {name!r} is not a valid TensorProto: {field} holds {len(values)} values for shape {shape}"
        )
    return np.full(shape, values[-1] if len(values) else 0, dtype=dtype)


def json_to_inputs(
    body: Mapping[str, Any], signature: meta_graph_pb2.SignatureDef, where: str
) -> tuple[dict[str, np.ndarray], bool]:
    """Named input arrays from a REST predict body; also whether it used the row format.

    ``where`` names the model, version and signature in error messages. Values are checked
    strictly against each input's dtype (see :mod:`pipelinekit.serving.json_values`).
    """
    has_rows, has_columns = "instances" in body, "inputs" in body
    if has_rows == has_columns:
        raise InvalidInputError(
            f"{where}: a predict request must have exactly one of 'instances' (row format) or 'inputs' "
            "(columnar format)."
        )
    names = list(signature.inputs)
    if has_rows:
        columns = _rows_to_columns(body["instances"], names, where)
        unknown = sorted(set(columns) - set(names))
        if unknown:
            raise InvalidInputError(
                f"{where}: unexpected inputs {unknown}; the signature's inputs are {sorted(names)}."
            )
    else:
        columns = _columns(body["inputs"], names, where)
    return {
        name: json_to_array(value, signature.inputs[name].dtype, f"{where}: input {name!r}")
        for name, value in columns.items()
    }, has_rows


def _rows_to_columns(instances: Any, names: list[str], where: str) -> dict[str, list[Any]]:
    if not isinstance(instances, list) or not instances:
        raise InvalidInputError(f"{where}: 'instances' must be a non-empty list, one element per example.")
    if not all(isinstance(row, dict) and "b64" not in row for row in instances):
        if len(names) != 1:
            raise InvalidInputError(
                f"{where}: the signature has inputs {sorted(names)}, so each instance must be an object "
                "naming them."
            )
        return {names[0]: instances}
    keys = set(instances[0])
    for index, row in enumerate(instances):
        if set(row) != keys:
            raise InvalidInputError(
                f"{where}: instance {index} has keys {sorted(row)} but instance 0 has {sorted(keys)}; "
                "every instance must name the same inputs."
            )
    return {key: [row[key] for row in instances] for key in keys}


def _columns(inputs: Any, names: list[str], where: str) -> dict[str, Any]:
    """The signature's inputs from a columnar body; other keys are ignored, as TF Serving does."""
    if not isinstance(inputs, dict) or _is_b64(inputs):
        if len(names) != 1:
            raise InvalidInputError(
                f"{where}: the signature has inputs {sorted(names)}, so 'inputs' must be an object naming "
                "them."
            )
        return {names[0]: inputs}
    missing = [name for name in names if name not in inputs]
    if missing:
        raise InvalidInputError(
            f"{where}: Missing named input: {missing[0]} in 'inputs' object. It names {sorted(inputs)}; "
            f"the signature's inputs are {sorted(names)}."
        )
    return {name: inputs[name] for name in names}


def _is_b64(value: dict[str, Any]) -> bool:
    return len(value) == 1 and isinstance(value.get("b64"), str)


def outputs_to_json(outputs: Mapping[str, np.ndarray], row_format: bool, where: str) -> dict[str, Any]:
    """The REST predict answer: ``{"predictions": ...}`` for rows, ``{"outputs": ...}`` for columns."""
    values = {name: to_json_value(array, binary=name.endswith("_bytes")) for name, array in outputs.items()}
    if not row_format:
        return {"outputs": next(iter(values.values())) if len(values) == 1 else values}
    scalars = sorted(name for name, array in outputs.items() if not np.ndim(array))
    if scalars:
        raise InvalidInputError(
            f"{where}: Tensor name: {scalars[0]} has no shape information, so the answer cannot be given "
            "as rows; send the request in columnar format ('inputs')."
        )
    if len(values) == 1:
        return {"predictions": next(iter(values.values()))}
    sizes = {name: np.shape(array)[0] if np.ndim(array) else -1 for name, array in outputs.items()}
    if len(set(sizes.values())) != 1 or -1 in sizes.values():
        raise InvalidInputError(
            f"{where}: the outputs have different batch sizes {sizes}, so they cannot be given as rows; "
            "send the request in columnar format ('inputs')."
        )
    count = next(iter(sizes.values()))
    return {"predictions": [{name: value[i] for name, value in values.items()} for i in range(count)]}


def to_json_value(array: np.ndarray, binary: bool = False) -> Any:
    """A JSON-ready nested list of an array; bytes become text, ``{"b64": ...}`` if ``binary`` or not UTF-8.

    float32 and float16 values are written with the shortest digits that read back to the same
    value (0.2, not 0.20000000298023224), as TF Serving writes them.
    """
    if array.dtype == object:
        return _encode_strings(array.tolist(), binary)
    if array.dtype in (np.float32, np.float16):
        return _shortest_floats(array).tolist()
    return array.tolist()


_FLOAT_CHUNK = 65536  # values formatted at a time: the text of a whole big output would take 64 bytes each


def _shortest_floats(array: np.ndarray) -> np.ndarray:
    """float64s that print as the shortest digits of each float32/float16 value, chunk by chunk."""
    flat = array.reshape(-1)
    result = np.empty(flat.shape, dtype=np.float64)
    for start in range(0, flat.size, _FLOAT_CHUNK):
        # 16 characters hold any float32 or float16 shortest repr ("-1.1754944e-38")
        result[start : start + _FLOAT_CHUNK] = flat[start : start + _FLOAT_CHUNK].astype("<U16").astype(np.float64)
    return result.reshape(array.shape)


def _encode_strings(value: Any, binary: bool) -> Any:
    if isinstance(value, list):
        return [_encode_strings(item, binary) for item in value]
    if not binary:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return {"b64": base64.b64encode(value).decode("ascii")}


def example_from_features(features: Mapping[str, Any]) -> tf.train.Example:
    """A tf.Example of feature name to value or list (int, float, str, bytes or ``{"b64": ...}``)."""
    example = tf.train.Example()
    for name, value in features.items():
        _fill_feature(example.features.feature[name], name, value)
    return example


def _fill_feature(feature: tf.train.Feature, name: str, value: Any) -> None:
    values = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
    if all(isinstance(v, (bool, int, np.integer)) for v in values):
        feature.int64_list.value.extend(int(v) for v in values)
    elif all(isinstance(v, (int, float, np.integer, np.floating)) for v in values):
        feature.float_list.value.extend(float(v) for v in values)
    else:
        try:
            feature.bytes_list.value.extend(_as_bytes(v) for v in values)
        except (TypeError, binascii.Error) as exc:
            raise InvalidInputError(f"feature {name!r}: {exc}") from exc


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict) and set(value) == {"b64"}:
        return base64.b64decode(value["b64"], validate=True)
    raise TypeError(f"values must be numbers, strings, bytes or {{'b64': ...}}, got {value!r}")


def examples_from_json(
    body: Mapping[str, Any], where: str
) -> tuple[list[tf.train.Example], tf.train.Example | None]:
    """The examples and the optional shared context of a REST classify or regress body."""
    examples = body.get("examples")
    if not isinstance(examples, list) or not all(isinstance(e, dict) for e in examples):
        raise InvalidInputError(
            f"{where}: the request needs 'examples', a list of objects mapping feature names to values."
        )
    context = body.get("context")
    if context is not None and not isinstance(context, dict):
        raise InvalidInputError(f"{where}: 'context' must be an object mapping feature names to values.")
    return [example_from_features(e) for e in examples], (example_from_features(context) if context else None)


def stack_examples(examples: Sequence[tf.train.Example]) -> np.ndarray:
    """The serialized examples as a 1-D string array, the input of a classify or regress signature."""
    return np.array([example.SerializeToString() for example in examples], dtype=object)


def request_input(
    examples: Sequence[tf.train.Example], context: tf.train.Example | None = None
) -> input_pb2.Input:
    """The ``Input`` of a classify or regress request: the examples, with the shared context if any."""
    result = input_pb2.Input()
    if context is None:
        result.example_list.examples.extend(examples)
    else:
        result.example_list_with_context.examples.extend(examples)
        result.example_list_with_context.context.CopyFrom(context)
    return result


def proto_json(message: Message) -> dict[str, Any]:
    """A proto as TF Serving's REST API writes it: field names as in the .proto, defaults included."""
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, including_default_value_fields=True
    )


def metadata_json(response: get_model_metadata_pb2.GetModelMetadataResponse) -> dict[str, Any]:
    """A GetModelMetadataResponse as TF Serving's REST metadata answer (the SignatureDefMap unpacked)."""
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    response.metadata["signature_def"].Unpack(signature_map)
    return {
        "model_spec": proto_json(response.model_spec),
        "metadata": {"signature_def": proto_json(signature_map)},
    }

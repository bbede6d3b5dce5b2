"""Checks of a request's TensorProtos against the signature and the size limit, before decoding.

A TensorProto declares its shape apart from its values, and TensorFlow fills a tensor whose
proto holds fewer values than the shape (one value repeated, or zeros). So a 45-byte request
can declare a tensor of gigabytes. Every check here reads only the proto's fields: nothing is
allocated for a request that is inconsistent (INVALID_ARGUMENT) or would decode to more than
``max_bytes`` (RESOURCE_EXHAUSTED).
"""

from __future__ import annotations

from collections.abc import Mapping

from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow.core.protobuf import meta_graph_pb2

from pipelinekit.serving.errors import InvalidInputError, TensorTooLargeError

__all__ = ["MAX_RANK", "check_request_tensors", "dtype_name", "value_field"]

MAX_RANK = 254  # TensorShape's limit
_MAX_ELEMENTS = (2**63 - 1) // 16  # so that elements times the largest item size fits in int64

# dtype -> (the TensorProto field holding its values, values per element, bytes per element)
_VALUE_FIELDS: dict[int, tuple[str, int, int]] = {
    types_pb2.DT_FLOAT: ("float_val", 1, 4),
    types_pb2.DT_DOUBLE: ("double_val", 1, 8),
    types_pb2.DT_HALF: ("half_val", 1, 2),
    types_pb2.DT_BFLOAT16: ("half_val", 1, 2),
    types_pb2.DT_INT8: ("int_val", 1, 1),
    types_pb2.DT_UINT8: ("int_val", 1, 1),
    types_pb2.DT_INT16: ("int_val", 1, 2),
    types_pb2.DT_UINT16: ("int_val", 1, 2),
    types_pb2.DT_INT32: ("int_val", 1, 4),
    types_pb2.DT_UINT32: ("uint32_val", 1, 4),
    types_pb2.DT_INT64: ("int64_val", 1, 8),
    types_pb2.DT_UINT64: ("uint64_val", 1, 8),
    types_pb2.DT_BOOL: ("bool_val", 1, 1),
    types_pb2.DT_COMPLEX64: ("scomplex_val", 2, 8),
    types_pb2.DT_COMPLEX128: ("dcomplex_val", 2, 16),
    types_pb2.DT_STRING: ("string_val", 1, 0),
}

# TensorFlow's DataTypeString names, which TF Serving's messages use ("float", not "float32").
_TF_NAMES = {types_pb2.DT_FLOAT: "float", types_pb2.DT_DOUBLE: "double", types_pb2.DT_HALF: "half"}


def value_field(dtype: int) -> str:
    """The TensorProto field that holds values of ``dtype`` (``float_val``, ...); "" for none."""
    return _VALUE_FIELDS.get(dtype, ("", 0, 0))[0]


def dtype_name(dtype: int) -> str:
    """TensorFlow's name of a DataType enum value (``float``, ``int32``, ``string``, ...)."""
    if dtype in _TF_NAMES:
        return _TF_NAMES[dtype]
    name = types_pb2.DataType.Name(dtype) if dtype in types_pb2.DataType.values() else f"DataType({dtype})"
    return name.removeprefix("DT_").lower()


def check_request_tensors(
    protos: Mapping[str, tensor_pb2.TensorProto],
    signature: meta_graph_pb2.SignatureDef,
    where: str,
    max_bytes: int,
) -> None:
    """Raise unless every proto is a consistent tensor of the signature's dtype, all within ``max_bytes``."""
    expected, sent = set(signature.inputs), set(protos)
    if expected != sent:
        raise InvalidInputError(
            f"{where}: the inputs do not match the signature. Expected {sorted(expected)}, got "
            f"{sorted(sent)}; missing {sorted(expected - sent)}, unexpected {sorted(sent - expected)}."
        )
    total = 0
    for name, proto in protos.items():
        total += _decoded_bytes(proto, signature.inputs[name].dtype, f"{where}: input {name!r}")
        if total > max_bytes:
            raise TensorTooLargeError(
                f"{where}: the request's tensors would take more than {max_bytes} bytes once decoded "
                f"(input {name!r} declares shape {_shape(proto)}); send fewer rows per request or raise "
                "--max_tensor_bytes"
            )


def _decoded_bytes(proto: tensor_pb2.TensorProto, expected_dtype: int, what: str) -> int:
    """The bytes ``proto`` decodes to; raise InvalidInputError if it is not a consistent tensor."""
    if proto.dtype != expected_dtype:
        raise InvalidInputError(
            f"{what} is {dtype_name(proto.dtype)} but the signature expects {dtype_name(expected_dtype)}; "
            f"send a {dtype_name(expected_dtype)} tensor."
        )
    field, per_element, item_bytes = _VALUE_FIELDS.get(proto.dtype, ("", 0, 0))
    if not field:
        raise InvalidInputError(f"{what}: dtype {dtype_name(proto.dtype)} cannot be sent in a request")
    elements = _element_count(proto, what)
    if proto.tensor_content:
        if proto.dtype == types_pb2.DT_STRING:
            raise InvalidInputError(f"{what}: a string tensor cannot use tensor_content; fill string_val")
        if len(proto.tensor_content) != elements * item_bytes:
            raise InvalidInputError(
                f"{what}: tensor_content has {len(proto.tensor_content)} bytes, but shape {_shape(proto)} "
                f"of {dtype_name(proto.dtype)} needs {elements * item_bytes}"
            )
        return elements * item_bytes
    values = getattr(proto, field)
    count, remainder = divmod(len(values), per_element)
    if remainder or count > elements or count not in (0, 1, elements):
        raise InvalidInputError(
            f"{what}: {field} holds {len(values)} values but shape {_shape(proto)} has {elements} "
            f"elements; send every value, or one to fill the shape with"
        )
    if proto.dtype == types_pb2.DT_STRING:
        # TensorFlow repeats the last string to fill the shape; count every copy.
        given = sum(len(value) for value in values)
        filled = (elements - len(values)) * (len(values[-1]) if len(values) else 0)
        return given + filled + elements * 8  # plus a pointer-sized header per string
    return elements * item_bytes


def _element_count(proto: tensor_pb2.TensorProto, what: str) -> int:
    shape = proto.tensor_shape
    if shape.unknown_rank:
        raise InvalidInputError(f"{what}: the tensor_shape has unknown_rank set; send a fully known shape")
    if len(shape.dim) > MAX_RANK:
        raise InvalidInputError(f"{what}: rank {len(shape.dim)} is over TensorFlow's limit of {MAX_RANK}")
    count, nonzero = 1, 1
    for dim in shape.dim:
        if dim.size < 0:
            raise InvalidInputError(f"{what}: shape {_shape(proto)} has a negative dimension")
        count *= dim.size
        nonzero *= max(dim.size, 1)
    if nonzero > _MAX_ELEMENTS:  # refused even when another dimension is 0 (numpy counts its bytes)
        raise InvalidInputError(f"{what}: shape {_shape(proto)} has more than {_MAX_ELEMENTS} elements")
    return count


def _shape(proto: tensor_pb2.TensorProto) -> str:
    """The declared shape as ``[2,3]``, cut after 8 dimensions so a message stays short."""
    dims = [str(dim.size) for dim in proto.tensor_shape.dim[:8]]
    return "[" + ",".join(dims) + (",...]" if len(proto.tensor_shape.dim) > 8 else "]")

"""Request inputs are checked before anything is allocated: TensorProtos by size and shape, JSON by type."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow.core.protobuf.meta_graph_pb2 import SignatureDef

from pipelinekit.serving.errors import InvalidInputError, TensorTooLargeError
from pipelinekit.serving.json_values import json_to_array
from pipelinekit.serving.tensor_checks import check_request_tensors

LIMIT = 1024 * 1024


def _signature(**dtypes: int) -> SignatureDef:
    signature = SignatureDef()
    for name, dtype in dtypes.items():
        signature.inputs[name].dtype = dtype
    return signature


def _proto(dims: list[int], dtype: int = types_pb2.DT_FLOAT, **values) -> tensor_pb2.TensorProto:
    proto = tensor_pb2.TensorProto(dtype=dtype, **values)
    for size in dims:
        proto.tensor_shape.dim.add(size=size)
    return proto


def _check(proto: tensor_pb2.TensorProto, dtype: int = types_pb2.DT_FLOAT, limit: int = LIMIT) -> None:
    check_request_tensors({"x": proto}, _signature(x=dtype), "model 'm'", limit)


def test_the_45_byte_memory_bomb_is_resource_exhausted_without_allocating():
    bomb = _proto([250_000_000, 1], float_val=[1.0])
    assert bomb.ByteSize() < 50
    with pytest.raises(TensorTooLargeError, match=r"\[250000000,1\].*--max_tensor_bytes") as error:
        _check(bomb)
    assert error.value.code == "RESOURCE_EXHAUSTED"


@pytest.mark.parametrize(
    ("proto", "words"),
    [
        (_proto([-1, 1], float_val=[1.0]), "negative dimension"),
        (_proto([3], float_val=[1.0, 2.0]), "holds 2 values but shape [3] has 3 elements"),
        (_proto([1], float_val=[1.0, 2.0]), "holds 2 values"),
        (_proto([2], tensor_content=b"\0" * 4), "tensor_content has 4 bytes, but shape [2] of float needs 8"),
        (_proto([2], dtype=types_pb2.DT_DOUBLE, double_val=[1, 2]), "is double but the signature expects float"),
        (_proto([1], dtype=types_pb2.DT_RESOURCE), "is resource but the signature expects float"),
    ],
)
def test_inconsistent_protos_are_invalid_argument(proto, words):
    with pytest.raises(InvalidInputError) as error:
        _check(proto)
    assert words in str(error.value)


@pytest.mark.parametrize("dtype", [types_pb2.DT_RESOURCE, types_pb2.DT_VARIANT, 9999])
def test_dtypes_a_request_cannot_carry_are_invalid_argument_even_when_the_signature_names_them(dtype):
    with pytest.raises(InvalidInputError, match="cannot be sent in a request"):
        _check(_proto([1], dtype=dtype), dtype=dtype)


def test_unknown_rank_and_huge_rank_are_invalid_argument():
    proto = _proto([])
    proto.tensor_shape.unknown_rank = True
    with pytest.raises(InvalidInputError, match="unknown_rank"):
        _check(proto)
    with pytest.raises(InvalidInputError, match="rank 300"):
        _check(_proto([1] * 300, float_val=[1.0]))


def test_a_filled_string_tensor_counts_every_copy():
    proto = _proto([100_000], dtype=types_pb2.DT_STRING, string_val=[b"x" * 100])
    with pytest.raises(TensorTooLargeError):
        _check(proto, dtype=types_pb2.DT_STRING)


def test_the_limit_is_on_all_inputs_together():
    signature = _signature(a=types_pb2.DT_FLOAT, b=types_pb2.DT_FLOAT)
    half = {"a": _proto([LIMIT // 8 + 1], float_val=[0.0]), "b": _proto([LIMIT // 8 + 1], float_val=[0.0])}
    with pytest.raises(TensorTooLargeError, match="input 'b'"):
        check_request_tensors(half, signature, "m", LIMIT)


@settings(deadline=None, max_examples=60)
@given(
    dims=st.lists(st.integers(0, 6), max_size=3),
    dtype=st.sampled_from([np.float32, np.float64, np.int32, np.int64, np.bool_, np.uint8]),
)
def test_protos_made_by_tensorflow_pass_and_decode_to_what_they_declare(dims, dtype):
    array = np.ones(dims, dtype=dtype)
    proto = tf.make_tensor_proto(array)
    _check(proto, dtype=proto.dtype)
    np.testing.assert_array_equal(tf.make_ndarray(proto), array)


@settings(deadline=None, max_examples=100)
@given(
    dims=st.lists(st.integers(-3, 2**40), max_size=4),
    count=st.integers(0, 4),
    content=st.binary(max_size=16),
)
def test_random_shapes_and_values_are_checked_or_fit_the_limit(dims, count, content):
    proto = _proto(dims, float_val=[1.0] * count, tensor_content=content)
    try:
        _check(proto)
    except (InvalidInputError, TensorTooLargeError):
        return
    decoded = tf.make_ndarray(proto)  # only a proto that passed may be decoded, and it is small
    assert decoded.nbytes <= LIMIT and list(decoded.shape) == dims


@pytest.mark.parametrize(
    ("value", "dtype", "words"),
    [
        ([None], types_pb2.DT_FLOAT, "JSON Value: null Type: Null is not of expected type: float"),
        ([True], types_pb2.DT_FLOAT, "JSON Value: true Type: True is not of expected type: float"),
        (["1.5"], types_pb2.DT_FLOAT, 'JSON Value: "1.5" Type: String is not of expected type: float'),
        ([3000000000], types_pb2.DT_INT32, "JSON Value: 3000000000 Type: Number is not of expected type: int32"),
        ([1.7], types_pb2.DT_INT32, "JSON Value: 1.7 Type: Number is not of expected type: int32"),
        ([1.0], types_pb2.DT_INT64, "JSON Value: 1.0 Type: Number is not of expected type: int64"),
        ([2**63], types_pb2.DT_INT64, "is not of expected type: int64"),
        ([10**400], types_pb2.DT_FLOAT, "is not of expected type: float"),
        ([5], types_pb2.DT_BOOL, "JSON Value: 5 Type: Number is not of expected type: bool"),
        (["false"], types_pb2.DT_BOOL, 'JSON Value: "false" Type: String is not of expected type: bool'),
        ([{"a": 1}], types_pb2.DT_STRING, "Type: Object is not of expected type: string"),
        ([1], types_pb2.DT_STRING, "Type: Number is not of expected type: string"),
        ([-1], types_pb2.DT_UINT8, "is not of expected type: uint8"),
        ([[1.0], 2.0], types_pb2.DT_FLOAT, "found at incorrect level"),
        ([[1.0], [2.0, 3.0]], types_pb2.DT_FLOAT, "Encountered list at unexpected size: 2"),
        ([1.0, [2.0]], types_pb2.DT_FLOAT, "Encountered list at unexpected level"),
        ([1.0], types_pb2.DT_COMPLEX64, "to type: complex64 is not supported"),
    ],
)
def test_json_values_of_the_wrong_type_are_rejected_with_tf_servings_message(value, dtype, words):
    with pytest.raises(InvalidInputError) as error:
        json_to_array(value, dtype, "input 'x'")
    assert words in str(error.value)


def test_json_values_of_the_right_type_convert_exactly():
    assert json_to_array([[1, 2.5]], types_pb2.DT_FLOAT, "x").tolist() == [[1.0, 2.5]]
    assert json_to_array([2**31 - 1, -(2**31)], types_pb2.DT_INT32, "x").tolist() == [2**31 - 1, -(2**31)]
    assert json_to_array([2**63 - 1], types_pb2.DT_INT64, "x").tolist() == [2**63 - 1]
    assert json_to_array([True, False], types_pb2.DT_BOOL, "x").tolist() == [True, False]
    assert json_to_array(["a", {"b64": "AAE="}], types_pb2.DT_STRING, "x").tolist() == [b"a", b"\0\1"]
    assert json_to_array(7, types_pb2.DT_INT64, "x").shape == ()
    assert json_to_array([], types_pb2.DT_FLOAT, "x").shape == (0,)
    assert np.isinf(json_to_array([1e300], types_pb2.DT_FLOAT, "x")[0])  # as TF Serving's GetFloat


def test_bad_base64_is_invalid_argument():
    with pytest.raises(InvalidInputError, match="Unable to base64 decode"):
        json_to_array([{"b64": "not base64!"}], types_pb2.DT_STRING, "x")


@settings(deadline=None, max_examples=200)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=3),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
        max_leaves=12,
    ),
    st.sampled_from([types_pb2.DT_FLOAT, types_pb2.DT_INT32, types_pb2.DT_INT64, types_pb2.DT_BOOL,
                     types_pb2.DT_STRING, types_pb2.DT_UINT8, types_pb2.DT_DOUBLE]),
)  # fmt: skip
def test_any_json_value_converts_or_is_invalid_argument(value, dtype):
    try:
        array = json_to_array(value, dtype, "x")
    except InvalidInputError:
        return
    assert array.dtype == (object if dtype == types_pb2.DT_STRING else tf.dtypes.as_dtype(dtype).as_numpy_dtype)


@settings(deadline=None, max_examples=60)
@given(
    dims=st.lists(st.integers(0, 4), max_size=3),
    dtype=st.sampled_from([np.float32, np.float64, np.float16, np.int8, np.int32, np.int64, np.uint64, np.bool_]),
)
def test_output_protos_decode_to_the_array_as_make_tensor_proto_does(dims, dtype):
    from pipelinekit.serving.tensors import fill_tensor_proto

    array = (np.arange(int(np.prod(dims))) % 3).astype(dtype).reshape(dims)
    proto = tensor_pb2.TensorProto()
    fill_tensor_proto(proto, array[..., ::-1] if dims else array)  # also a view that is not contiguous
    expected = tf.make_tensor_proto(array[..., ::-1] if dims else array)
    assert proto.dtype == expected.dtype and proto.tensor_shape == expected.tensor_shape
    np.testing.assert_array_equal(tf.make_ndarray(proto), tf.make_ndarray(expected))


def test_string_outputs_take_the_library_path():
    from pipelinekit.serving.tensors import fill_tensor_proto

    proto = tensor_pb2.TensorProto()
    fill_tensor_proto(proto, np.array([b"a", b"bc"], dtype=object))
    assert proto.string_val == [b"a", b"bc"] and proto.dtype == types_pb2.DT_STRING

"""Unit tests of the pure parts: version policies, the model config file, JSON tensors, lazy imports."""

from __future__ import annotations

import base64
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from serving_helpers import HALF_PLUS_TWO
from tensorflow.core.protobuf.meta_graph_pb2 import SignatureDef

from pipelinekit.serving.errors import ModelConfigError
from pipelinekit.serving.model_config import read_model_config_file
from pipelinekit.serving.tensors import from_tensor_proto, json_to_inputs, outputs_to_json
from pipelinekit.serving.version_policy import ServableVersionPolicy, list_version_dirs, select_versions

versions = st.sets(st.integers(min_value=1, max_value=10**6), max_size=20)


@given(versions, st.integers(min_value=0, max_value=5))
def test_latest_policy_keeps_the_highest_n(available, n):
    policy = ServableVersionPolicy()
    policy.latest.num_versions = n
    assert select_versions(policy, available) == set(sorted(available)[-max(n, 1) :])


@given(versions)
def test_default_policy_is_latest_one(available):
    assert select_versions(ServableVersionPolicy(), available) == ({max(available)} if available else set())


@given(versions, versions)
def test_all_and_specific_policies(available, wanted):
    every = ServableVersionPolicy()
    every.all.SetInParent()
    assert select_versions(every, available) == available
    specific = ServableVersionPolicy()
    specific.specific.versions.extend(wanted)
    assert select_versions(specific, available) == available & wanted


def test_version_dirs_are_all_digit_folders(tmp_path):
    for name in ("00000007", "12", "tmp-13", "latest"):
        (tmp_path / name).mkdir()
    (tmp_path / "99").write_text("a file, not a version")
    assert sorted(list_version_dirs(str(tmp_path))) == [7, 12]
    assert list_version_dirs(str(tmp_path / "missing")) == {}


def test_model_config_file_with_two_models(tmp_path):
    path = tmp_path / "models.config"
    path.write_text(
        f"""model_config_list {{
          config {{ name: "a" base_path: "{HALF_PLUS_TWO}" model_version_policy {{ all {{}} }} }}
          config {{ name: "b" base_path: "{HALF_PLUS_TWO}" version_labels {{ key: "canary" value: 123 }} }}
        }}"""
    )
    config = read_model_config_file(str(path))
    assert [m.name for m in config.model_config_list.config] == ["a", "b"]
    assert dict(config.model_config_list.config[1].version_labels) == {"canary": 123}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model_config_list { config { name: 'a' base_path: '/nope' } }", "'/nope' is not a directory"),
        (
            f"model_config_list {{ config {{ name: 'a' base_path: '{HALF_PLUS_TWO}' }} "
            f"config {{ name: 'a' base_path: '{HALF_PLUS_TWO}' }} }}",
            "configured twice",
        ),
        ("model_config_list { config { name: 'a' ", "not a valid ModelServerConfig"),
    ],
)
def test_model_config_file_errors_name_the_problem(tmp_path, text, message):
    path = tmp_path / "models.config"
    path.write_text(text)
    with pytest.raises(ModelConfigError, match=message):
        read_model_config_file(str(path))


def test_missing_config_file_says_which_flag():
    with pytest.raises(ModelConfigError, match="--model_config_file"):
        read_model_config_file("/no/such/file.config")


def _signature(dtype: tf.DType, *names: str) -> SignatureDef:
    signature = SignatureDef()
    for name in names:
        signature.inputs[name].dtype = dtype.as_datatype_enum
    return signature


@settings(deadline=None)
@given(st.lists(st.lists(st.floats(-1e6, 1e6, width=32), min_size=2, max_size=2), min_size=1, max_size=5))
def test_json_rows_and_columns_give_the_same_arrays(rows):
    signature = _signature(tf.float32, "x")
    by_rows, row_format = json_to_inputs({"instances": rows}, signature, "test")
    by_columns, column_format = json_to_inputs({"inputs": {"x": rows}}, signature, "test")
    assert row_format and not column_format
    np.testing.assert_array_equal(by_rows["x"], by_columns["x"])
    predictions = outputs_to_json({"y": by_rows["x"]}, True, "test")["predictions"]
    np.testing.assert_array_equal(
        np.array(predictions, dtype=np.float32), by_rows["x"]
    )  # same float32 values


@settings(deadline=None)
@given(st.lists(st.binary(max_size=20), min_size=1, max_size=5))
def test_b64_bytes_round_trip(values):
    body = {"instances": [{"b64": base64.b64encode(v).decode()} for v in values]}
    inputs, _ = json_to_inputs(body, _signature(tf.string, "s"), "test")
    assert inputs["s"].tolist() == values
    answer = outputs_to_json({"s_bytes": inputs["s"]}, True, "test")["predictions"]
    assert [base64.b64decode(item["b64"]) for item in answer] == values


def test_import_pipelinekit_serving_loads_no_tensorflow_or_grpc():
    code = (
        "import sys, pipelinekit.serving, pipelinekit.serving.cli; "
        "heavy = [m for m in ('tensorflow', 'grpc', 'starlette', 'uvicorn') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_float32_outputs_are_written_with_their_shortest_digits():
    assert outputs_to_json({"y": np.array([0.2, 1.0 / 3], dtype=np.float32)}, True, "test") == {
        "predictions": [0.2, 0.33333334]
    }


def test_every_public_name_of_pipelinekit_serving_resolves():
    import pipelinekit.serving as serving

    assert all(getattr(serving, name) for name in serving.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        serving.nope  # noqa: B018


_VALUE_FIELD_OF = {
    np.float32: "float_val",
    np.float64: "double_val",
    np.int32: "int_val",
    np.int64: "int64_val",
    np.bool_: "bool_val",
}


@pytest.mark.parametrize("dtype", list(_VALUE_FIELD_OF))
@pytest.mark.parametrize("shape", [(), (0,), (1,), (2, 3), (3, 0, 2)])
@pytest.mark.parametrize("form", ["tensor_content", "every value", "one value to repeat", "no value"])
def test_from_tensor_proto_decodes_as_tensorflow_does(dtype, shape, form):
    """The direct decoder of the common dtypes agrees with tf.make_ndarray on every way a proto holds values."""
    array = (np.arange(int(np.prod(shape))) % 3 + 1).astype(dtype).reshape(shape)
    proto = tf.make_tensor_proto(array)
    field = _VALUE_FIELD_OF[dtype]
    if form != "tensor_content":
        proto.ClearField("tensor_content")
        proto.ClearField(field)
        values = {"every value": array.ravel().tolist(), "one value to repeat": array.ravel()[-1:].tolist()}
        getattr(proto, field).extend(values.get(form, []))
    decoded, expected = from_tensor_proto(proto), tf.make_ndarray(proto)
    assert decoded.dtype == expected.dtype and decoded.shape == expected.shape
    assert np.array_equal(decoded, expected) and decoded.flags.writeable

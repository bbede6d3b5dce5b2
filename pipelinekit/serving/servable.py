"""One loaded version of one model: a SavedModel and its signatures, ready to run.

The SignatureDefs come from the ``serve`` MetaGraph in ``saved_model.pb`` itself, so the
metadata we report is byte-for-byte what TF Serving reports; the signatures run through
``tf.saved_model.load``, which serves both TF1 and TF2 (Keras 3 ``model.export``) SavedModels.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import tensorflow as tf
from google.protobuf import message
from tensorflow.core.protobuf import error_codes_pb2, meta_graph_pb2, saved_model_pb2

from pipelinekit.serving.errors import (
    InvalidInputError,
    ModelLoadError,
    SignatureNotFoundError,
    StatusError,
)

__all__ = ["DEFAULT_SIGNATURE", "SERVE_TAG", "Servable"]

logger = logging.getLogger(__name__)

DEFAULT_SIGNATURE = "serving_default"
SERVE_TAG = "serve"


class Servable:
    """A loaded model version; thread-safe to run from many request threads at once."""

    def __init__(self, name: str, version: int, path: str) -> None:
        self.name = name
        self.version = version
        self.path = path
        self.signature_defs = _read_signature_defs(path, name, version)
        try:
            # Keep the loaded object: it owns the variables the signatures read.
            self._model = tf.saved_model.load(path, tags=[SERVE_TAG])
        except Exception as exc:  # TF raises many unrelated types for a broken SavedModel
            code = _code_name(exc) if isinstance(exc, tf.errors.OpError) else "UNKNOWN"
            raise ModelLoadError(
                f"model {name!r} version {version}: loading the SavedModel at {path!r} failed: {exc}", code
            ) from exc
        self._functions = {
            key: _fast_caller(self.describe(key), function, self.signature_defs[key])
            for key, function in self._model.signatures.items()
            if key in self.signature_defs
        }

    def describe(self, signature_name: str = "") -> str:
        """``model 'm' version 3 signature 's'``, the prefix of every message about a request."""
        text = f"model {self.name!r} version {self.version}"
        return f"{text} signature {signature_name!r}" if signature_name else text

    def signature_def(
        self, signature_name: str, not_found_code: str = "FAILED_PRECONDITION"
    ) -> meta_graph_pb2.SignatureDef:
        """The SignatureDef of ``signature_name`` (empty means ``serving_default``)."""
        key = signature_name or DEFAULT_SIGNATURE
        signature = self.signature_defs.get(key)
        if signature is None:
            known = ", ".join(sorted(self.signature_defs))
            raise SignatureNotFoundError(
                f"Serving signature key {key!r} not found in {self.describe()}. Known signatures: {known}.",
                code=not_found_code,
            )
        return signature

    def run(
        self, signature_name: str, inputs: Mapping[str, np.ndarray], output_filter: Sequence[str] = ()
    ) -> dict[str, np.ndarray]:
        """Run a signature on named input arrays; return the (filtered) named output arrays."""
        key = signature_name or DEFAULT_SIGNATURE
        signature = self.signature_def(key)
        where = self.describe(key)
        function = self._functions.get(key)
        if function is None:
            raise SignatureNotFoundError(
                f"{where}: the signature is in saved_model.pb but TensorFlow did not load it"
            )
        _check_input_names(where, signature, inputs)
        wanted = _check_output_filter(where, signature, output_filter)
        tensors = _to_tensors(where, signature, [(name, inputs[name]) for name in sorted(inputs)])
        try:
            outputs = function(tensors)
        except (tf.errors.InvalidArgumentError, ValueError, TypeError) as exc:
            raise InvalidInputError(
                f"{where}: the inputs do not fit the signature: {_first_line(exc)}"
            ) from exc
        except tf.errors.OpError as exc:
            error = StatusError(f"{where}: running the model failed: {_first_line(exc)}")
            error.code = _code_name(exc)
            raise error from exc
        return {name: _to_array(outputs[name].numpy()) for name in wanted}


def _fast_caller(where: str, function: Callable, signature: meta_graph_pb2.SignatureDef) -> Callable:
    """The signature as one concrete function over its input tensors in name order, traced once at load.

    Any shape is accepted, as TF Serving does; the kernels still reject what does not fit. The
    call goes through the concrete function's flat entry point when it has one: the inputs are
    already tensors of the signature's dtypes, in the traced order, so the public call's argument
    binding (a third of a small model's call) would only repeat checks made here.
    """
    names = sorted(signature.inputs)
    specs = [tf.TensorSpec(shape=None, dtype=signature.inputs[name].dtype) for name in names]
    try:
        concrete = tf.function(lambda *tensors: function(**dict(zip(names, tensors))), autograph=False).get_concrete_function(*specs)
    except (TypeError, ValueError, tf.errors.OpError) as exc:
        raise ModelLoadError(
            f"{where}: the signature cannot be traced for serving: {_first_line(exc)}", "INVALID_ARGUMENT"
        ) from exc
    call_flat = getattr(concrete, "_call_flat", None)  # TensorFlow's own call path, under the binding
    if call_flat is None:
        return lambda tensors: concrete(*tensors)
    return lambda tensors: call_flat(tensors, concrete.captured_inputs)


def _read_signature_defs(path: str, name: str, version: int) -> dict[str, meta_graph_pb2.SignatureDef]:
    """The SignatureDefs of the ``serve`` MetaGraph of the SavedModel at ``path``."""
    pb_path = os.path.join(path, "saved_model.pb")
    try:
        with open(pb_path, "rb") as handle:
            saved_model = saved_model_pb2.SavedModel.FromString(handle.read())
    except (OSError, message.DecodeError) as exc:
        raise ModelLoadError(
            f"model {name!r} version {version}: cannot read {pb_path!r} ({exc}); "
            "a version folder must hold a SavedModel written by tf.saved_model.save or model.export",
            "NOT_FOUND" if isinstance(exc, FileNotFoundError) else "DATA_LOSS",
        ) from exc
    for meta_graph in saved_model.meta_graphs:
        if SERVE_TAG in meta_graph.meta_info_def.tags:
            return dict(meta_graph.signature_def)
    raise ModelLoadError(
        f"model {name!r} version {version}: the SavedModel at {path!r} has no MetaGraph tagged 'serve'",
        "NOT_FOUND",
    )


def _check_input_names(
    where: str, signature: meta_graph_pb2.SignatureDef, inputs: Mapping[str, np.ndarray]
) -> None:
    expected, sent = set(signature.inputs), set(inputs)
    if expected != sent:
        raise InvalidInputError(
            f"{where}: the inputs do not match the signature. Expected {sorted(expected)}, got "
            f"{sorted(sent)}; missing {sorted(expected - sent)}, unexpected {sorted(sent - expected)}."
        )


def _check_output_filter(
    where: str, signature: meta_graph_pb2.SignatureDef, output_filter: Sequence[str]
) -> list[str]:
    duplicates = sorted({name for name in output_filter if list(output_filter).count(name) > 1})
    if duplicates:
        raise InvalidInputError(f"{where}: duplicate output tensor alias: {duplicates[0]}")
    unknown = sorted(set(output_filter) - set(signature.outputs))
    if unknown:
        raise InvalidInputError(
            f"{where}: output_filter names {unknown}, which are not outputs of the signature; "
            f"choose from {sorted(signature.outputs)}."
        )
    return list(output_filter) or list(signature.outputs)


def _to_tensors(
    where: str, signature: meta_graph_pb2.SignatureDef, inputs: Sequence[tuple[str, np.ndarray]]
) -> list[tf.Tensor]:
    """The tensors of the named input arrays, in the given order, each checked against the signature's dtype.

    Made by one IdentityN op on all the arrays, whose C fast path converts them: an
    ``EagerTensor`` built from Python (``tf.constant``, ``convert_to_tensor``) leaks about 340
    bytes each in TF 2.16 on Python 3.11 (tensorflow#68196), which a server pays on every
    request; and one op for every input costs a quarter of a four-input model's call.
    """
    arrays = [_checked_array(where, name, value, signature.inputs[name].dtype) for name, value in inputs]
    if not arrays:
        return []
    try:
        return list(tf.raw_ops.IdentityN(input=arrays))
    except (ValueError, TypeError, tf.errors.OpError) as exc:
        raise InvalidInputError(f"{where}: the inputs cannot be made tensors: {_first_line(exc)}") from exc


def _checked_array(where: str, name: str, value: np.ndarray, dtype_enum: int) -> np.ndarray:
    expected = _as_dtype(dtype_enum)
    value = np.asarray(value)
    try:
        actual = tf.string if value.dtype.kind in "OSU" else _as_dtype(value.dtype)
    except TypeError as exc:
        raise InvalidInputError(f"{where}: input {name!r} has unsupported dtype {value.dtype}") from exc
    if actual != expected:
        raise InvalidInputError(
            f"{where}: input {name!r} is {actual.name} but the signature expects {expected.name}; "
            f"send a {expected.name} tensor."
        )
    return value


# tf.dtypes.as_dtype, remembered: it runs for every input of every request.
_as_dtype = functools.lru_cache(maxsize=128)(tf.dtypes.as_dtype)


def _to_array(value: np.ndarray | bytes) -> np.ndarray:
    """An output as an array: a scalar string comes back from ``.numpy()`` as bytes, not an array."""
    if isinstance(value, bytes):
        array = np.empty((), dtype=object)
        array[()] = value
        return array
    return np.asarray(value)


def _code_name(exc: tf.errors.OpError) -> str:
    """The status code name of a TensorFlow error (``NOT_FOUND``, ``RESOURCE_EXHAUSTED``, ...)."""
    try:
        return error_codes_pb2.Code.Name(exc.error_code)
    except ValueError:
        return "UNKNOWN"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

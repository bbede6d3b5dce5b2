"""Mark SavedModel signatures as TF Serving classify or regress signatures.

``tf.saved_model.save`` records every signature with the predict method, but TF Serving's
Classify and Regress APIs (and BulkInferrer's ``classify_log``/``regress_log``) only run
signatures whose ``method_name`` says classify or regress. A ``run_fn`` calls
:func:`set_signature_methods` after saving to make such a signature servable by Classify.
"""

from __future__ import annotations

import os
import tempfile

from pipelinekit.errors import RunError

__all__ = ["CLASSIFY_METHOD", "REGRESS_METHOD", "PREDICT_METHOD", "set_signature_methods", "SignatureMethodError"]

CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"
PREDICT_METHOD = "tensorflow/serving/predict"
_METHODS = {"classify": CLASSIFY_METHOD, "regress": REGRESS_METHOD, "predict": PREDICT_METHOD}
_OUTPUTS = {CLASSIFY_METHOD: {"classes", "scores"}, REGRESS_METHOD: {"outputs"}}


class SignatureMethodError(RunError):
    """A signature cannot take the requested method: wrong inputs or outputs, or it does not exist."""


def set_signature_methods(saved_model_dir: str, methods: dict[str, str]) -> None:
    """Set ``method_name`` of signatures in ``saved_model_dir/saved_model.pb``.

    ``methods`` maps signature keys to ``"classify"``, ``"regress"`` or ``"predict"`` (or the full
    method names). Classify and regress signatures must take one string tensor named ``inputs``
    (serialized tf.Examples) and return ``classes``/``scores`` or ``outputs``.
    """
    from tensorflow.core.protobuf import saved_model_pb2

    path = os.path.join(saved_model_dir, "saved_model.pb")
    with open(path, "rb") as handle:
        saved_model = saved_model_pb2.SavedModel.FromString(handle.read())
    for meta_graph in saved_model.meta_graphs:
        for key, method in methods.items():
            _set_method(meta_graph.signature_def, key, _METHODS.get(method, method), path)
    handle_fd, temp = tempfile.mkstemp(dir=saved_model_dir, prefix=".saved_model.pb.")
    with os.fdopen(handle_fd, "wb") as out:
        out.write(saved_model.SerializeToString())
    os.replace(temp, path)


def _set_method(signatures, key: str, method: str, path: str) -> None:  # noqa: ANN001 - a proto map
    if key not in signatures:
        raise SignatureMethodError(f"{path} has no signature {key!r} (it has: {', '.join(sorted(signatures))})")
    if method not in _METHODS.values():
        raise SignatureMethodError(f"signature {key!r}: unknown method {method!r}; use classify, regress or predict")
    signature = signatures[key]
    wanted_outputs = _OUTPUTS.get(method)
    if wanted_outputs is not None:
        inputs = dict(signature.inputs)
        if list(inputs) != ["inputs"] or inputs["inputs"].dtype != 7:  # DT_STRING
            raise SignatureMethodError(
                f"signature {key!r} in {path} takes {sorted(inputs)}; a {method} signature must take one string "
                "tensor named 'inputs' (serialized tf.Examples)"
            )
        if not set(signature.outputs) & wanted_outputs or set(signature.outputs) - wanted_outputs:
            raise SignatureMethodError(
                f"signature {key!r} in {path} returns {sorted(signature.outputs)}; a {method} signature returns "
                f"{' and/or '.join(sorted(wanted_outputs))} only"
            )
    signature.method_name = method

"""Marking SavedModel signatures as classify or regress (``pipelinekit.components.trainer.signatures``)."""

from pipelinekit.components.trainer.signatures import (
    CLASSIFY_METHOD,
    PREDICT_METHOD,
    REGRESS_METHOD,
    SignatureMethodError,
    set_signature_methods,
)

__all__ = ["CLASSIFY_METHOD", "REGRESS_METHOD", "PREDICT_METHOD", "set_signature_methods", "SignatureMethodError"]

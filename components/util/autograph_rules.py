"""Let AutoGraph leave tf_keras (Keras 2) alone, as TensorFlow always did with its own Keras.

AutoGraph rewrites the Python source of every function a ``tf.function`` reaches, except in
modules its rules exempt: ``tensorflow`` and ``keras`` are exempt. Keras 2 lived inside
``tensorflow`` (``tensorflow.python.keras``) and was never rewritten; as the separate
``tf_keras`` package that TFT's transform layer and TFMA's metrics use, it is rewritten
function by function: about 3.5 s when the penguin Trainer saves a model holding TFT's layer,
1.4 s in its Evaluator. Its code is graph-safe as it is; layers' ``call`` methods are still
converted by tf_keras itself (``Layer.__call__`` converts ``call`` explicitly).
"""

from __future__ import annotations

import threading

__all__ = ["skip_converting_tf_keras"]

_lock = threading.Lock()


def skip_converting_tf_keras() -> None:
    """Add AutoGraph's ``DoNotConvert('tf_keras')`` rule, once per process."""
    from tensorflow.python.autograph.core import config, config_lib

    with _lock:
        if not any(isinstance(rule, config_lib.DoNotConvert) and rule.matches("tf_keras") for rule in config.CONVERSION_RULES):
            config.CONVERSION_RULES = (*config.CONVERSION_RULES, config_lib.DoNotConvert("tf_keras"))

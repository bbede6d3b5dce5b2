"""Let AutoGraph leave tf_keras (Keras 2) and tf.Transform alone: their code is graph-safe as it is.

AutoGraph rewrites the Python source of every function a ``tf.function`` reaches, except in
modules its rules exempt: ``tensorflow`` and ``keras`` are exempt. Two libraries the components
run through are not:
- ``tf_keras``: Keras 2 lived inside ``tensorflow`` (``tensorflow.python.keras``) and was never
  rewritten; as the separate package that TFT's transform layer and TFMA's metrics use, it is
  rewritten function by function: about 3.5 s when the penguin Trainer saves a model holding
  TFT's layer, 1.4 s in its Evaluator.
- ``tensorflow_transform``: tf_keras converts a layer's ``call`` explicitly, so TFT's
  ``TransformFeaturesLayer.call`` and the saved-model loader under it were rewritten every time
  a Trainer traced the layer (about 40% of the penguin Trainer's time). TFT's code also builds
  graphs with ``force_tf_compat_v1``, where AutoGraph never runs, so it needs no rewriting.
User code is still converted: a user layer's ``call`` and a ``preprocessing_fn`` keep Python
control flow on tensors working.
"""

from __future__ import annotations

import threading

__all__ = ["GRAPH_SAFE_LIBRARIES", "skip_converting_graph_safe_libraries"]

GRAPH_SAFE_LIBRARIES = ("tf_keras", "tensorflow_transform")

_lock = threading.Lock()


def skip_converting_graph_safe_libraries() -> None:
    """Add AutoGraph's ``DoNotConvert`` rule for each of ``GRAPH_SAFE_LIBRARIES``, once per process."""
    from tensorflow.python.autograph.core import config, config_lib

    with _lock:
        for library in GRAPH_SAFE_LIBRARIES:
            if not any(isinstance(rule, config_lib.DoNotConvert) and rule.matches(library) for rule in config.CONVERSION_RULES):
                config.CONVERSION_RULES = (*config.CONVERSION_RULES, config_lib.DoNotConvert(library))

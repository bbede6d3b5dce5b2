"""Keep ``tf.keras`` on Keras 3 in processes that also load tf.Transform.

tensorflow_transform 1.16 sets ``TF_USE_LEGACY_KERAS=1`` on import when it is unset, and
TensorFlow fixes what ``tf.keras`` means the first time it is touched. So import order decides
whether a user's module file gets Keras 2 or Keras 3. The model components call
:func:`use_keras3` before importing TFT or TFMA (and fail clearly if it is too late);
Transform, which needs no Keras itself, imports TFT with :func:`import_tft`, which keeps
whatever the user chose. Child processes get :func:`keras3_environment`.
"""

from __future__ import annotations

import os
from typing import Any

from pipelinekit.components.util.autograph_rules import skip_converting_graph_safe_libraries

from pipelinekit.errors import RunError

__all__ = ["use_keras3", "import_tft", "keras3_environment", "KerasVersionError"]

_LEGACY_FLAG = "TF_USE_LEGACY_KERAS"


class KerasVersionError(RunError):
    """``tf.keras`` was already bound to Keras 2 in this process before pipelinekit could pin Keras 3."""


def _bind_tf_keras() -> Any:
    """Resolve the lazy ``tf.keras`` now, before tensorflow_transform can set the flag; returns it.
    Also exempts tf_keras and TFT from AutoGraph (``autograph_rules``): their code is graph-safe."""
    import tensorflow as tf

    getattr(tf.keras, "version", None)
    skip_converting_graph_safe_libraries()
    return tf.keras


def use_keras3() -> None:
    """Bind ``tf.keras`` to Keras 3 now; raise KerasVersionError if it is already Keras 2."""
    import tensorflow as tf

    if not getattr(tf.keras, "_tfll_initialized", True):  # still unresolved: drop the flag first
        os.environ.pop(_LEGACY_FLAG, None)
    keras = _bind_tf_keras()
    version_fn = getattr(keras, "version", None)  # Keras 3 has version(); tf_keras (Keras 2) does not
    version = version_fn() if version_fn else str(getattr(keras, "__version__", "2"))
    if not version.startswith("3."):
        raise KerasVersionError(
            f"tf.keras is Keras {version} (tf_keras) in this process: {_LEGACY_FLAG} was set before anything "
            "touched tf.keras (tensorflow_transform sets it on import). pipelinekit's model components use "
            f"Keras 3: unset {_LEGACY_FLAG} and do not import tensorflow_transform before running the pipeline"
        )


def import_tft() -> Any:
    """``tensorflow_transform``, imported so that ``tf.keras`` stays what the user chose, and the
    flag it sets is taken back out so processes started later get Keras 3 too."""
    had_flag = _LEGACY_FLAG in os.environ
    _bind_tf_keras()
    import tensorflow_transform as tft

    if not had_flag:
        os.environ.pop(_LEGACY_FLAG, None)
    return tft


def keras3_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """``os.environ`` for a child process that must use Keras 3, plus ``extra``."""
    environment = {k: v for k, v in os.environ.items() if k != _LEGACY_FLAG}
    environment.update(extra or {})
    return environment

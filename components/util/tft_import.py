"""Import tensorflow_transform without turning users' Keras 3 code into Keras 2.

tensorflow_transform 1.16 sets ``TF_USE_LEGACY_KERAS=1`` when it is unset, and TensorFlow
decides what ``tf.keras`` means the first time it is touched. So we touch ``tf.keras``
first (fixing it to Keras 3 unless the user chose otherwise), import tft, then take the
variable back out, so module files and Beam workers started later also get Keras 3.
TFT's own Keras layer is tf-keras either way; call it from a ``tf.function``, not as a layer
of a Keras 3 model.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["import_tft"]

_FLAG = "TF_USE_LEGACY_KERAS"


def import_tft() -> Any:
    """``tensorflow_transform``, imported so that ``tf.keras`` stays what the user chose."""
    had_flag = _FLAG in os.environ
    import tensorflow as tf

    getattr(tf.keras, "version", None)  # resolves the lazy tf.keras now, before tft sets the flag
    import tensorflow_transform as tft

    if not had_flag:
        os.environ.pop(_FLAG, None)
    return tft

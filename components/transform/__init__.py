"""Transform: tf.Transform on Beam, with TFX's outputs."""

from components.transform.component import Transform

__all__ = ["Transform"]

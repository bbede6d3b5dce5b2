"""Transform: tf.Transform on Beam, with TFX's outputs."""

from pipelinekit.components.transform.component import Transform

__all__ = ["Transform"]

"""tf_keras is exempt from AutoGraph in the components' processes, and user layers still convert."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow  # imports TensorFlow


def test_the_rule_is_added_once_and_tf_keras_functions_are_left_alone():
    from pipelinekit.components.util.keras3 import use_keras3

    use_keras3()
    use_keras3()
    import tf_keras
    from tensorflow.python.autograph.core import config, config_lib
    from tensorflow.python.autograph.impl import conversion

    rules = [r for r in config.CONVERSION_RULES if isinstance(r, config_lib.DoNotConvert) and r.matches("tf_keras")]
    assert len(rules) == 1
    assert conversion.is_allowlisted(tf_keras.metrics.SparseCategoricalAccuracy.update_state)


def test_a_tf_keras_layer_s_own_call_is_still_converted_inside_a_tf_function():
    """tf_keras converts a layer's ``call`` itself, so Python control flow on tensors in user
    layers keeps working (it would fail to trace without AutoGraph)."""
    from pipelinekit.components.util.keras3 import use_keras3

    use_keras3()
    import tensorflow as tf
    import tf_keras

    class FlipNegativeSums(tf_keras.layers.Layer):
        def call(self, x):  # noqa: ANN001, ANN201
            if tf.reduce_sum(x) > 0:
                return x
            return -x

    layer = FlipNegativeSums()
    traced = tf.function(lambda x: layer(x))
    assert traced(tf.constant([-1.0, -2.0])).numpy().tolist() == [1.0, 2.0]
    assert traced(tf.constant([3.0])).numpy().tolist() == [3.0]
    metric = tf_keras.metrics.SparseCategoricalAccuracy()

    @tf.function
    def update(labels, predictions):  # noqa: ANN001, ANN202
        metric.update_state(labels, predictions)

    update(tf.constant([[1], [0]]), tf.constant([[0.1, 0.9], [0.2, 0.8]]))
    assert metric.result().numpy() == pytest.approx(0.5)

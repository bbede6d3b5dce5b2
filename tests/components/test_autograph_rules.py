"""tf_keras and tf.Transform are exempt from AutoGraph in the components' processes, and user layers still convert."""

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


def _z_scores_fn(inputs):  # noqa: ANN001, ANN202
    import tensorflow_transform as tft

    return {"x_xf": tft.scale_to_z_score(inputs["x"])}


def test_tft_s_layer_is_left_alone_and_traces_to_the_same_values(tmp_path):
    """TFT's own code runs unconverted inside a tf.function (as a Trainer's serving signature
    calls it), and gives the z-scores its analyzers computed."""
    from pipelinekit.components.util.keras3 import import_tft, use_keras3

    use_keras3()
    tft = import_tft()
    import numpy as np
    import tensorflow as tf
    import tensorflow_transform.beam as tft_beam
    from tensorflow.python.autograph.impl import conversion
    from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

    assert conversion.is_allowlisted(tft.TFTransformOutput.transform_features_layer)
    assert conversion.is_allowlisted(tft.TransformFeaturesLayer.call)
    values = [1.0, 2.0, 4.0, 9.0]
    metadata = dataset_metadata.DatasetMetadata(
        schema_utils.schema_from_feature_spec({"x": tf.io.FixedLenFeature([], tf.float32)})
    )
    with tft_beam.Context(temp_dir=str(tmp_path / "tmp")):
        transform_fn = ([{"x": v} for v in values], metadata) | tft_beam.AnalyzeDataset(_z_scores_fn)
    _ = transform_fn | tft_beam.WriteTransformFn(str(tmp_path / "graph"))
    layer = tft.TFTransformOutput(str(tmp_path / "graph")).transform_features_layer()
    traced = tf.function(lambda x: layer({"x": x})["x_xf"])
    expected = (np.array(values) - np.mean(values)) / np.std(values)
    np.testing.assert_allclose(traced(tf.constant(values)).numpy(), expected, rtol=1e-5)

"""The penguin example's module file: the three functions the standard components call.

- ``preprocessing_fn(inputs)`` (Transform): scales the measurements to z-scores (a missing one
  becomes 0, the mean), turns island and sex into vocabulary ids and the species into the label.
- ``tuner_fn(fn_args)`` (Tuner): a keras-tuner random search over width, depth and learning rate.
- ``run_fn(fn_args)`` (Trainer): trains a Keras 3 model and saves a SavedModel whose
  ``serving_default`` signature takes serialized tf.Examples of raw rows (no label) and whose
  ``transform_features`` signature gives TFMA the transformed label.

Written as a TFX user writes one: only TensorFlow, TFT, keras-tuner and TFX's FnArgs are used.
"""

from __future__ import annotations

import keras
import keras_tuner
import tensorflow as tf
import tensorflow_transform as tft
from tfx_bsl.public import tfxio

NUMERIC_FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
CATEGORICAL_FEATURES = ["island", "sex"]
LABEL = "species"
SPECIES = 3
BATCH_SIZE = 32


def transformed_name(key: str) -> str:
    return f"{key}_xf"


def _dense(tensor: tf.Tensor | tf.SparseTensor, default: float | str) -> tf.Tensor:
    """A [batch, 1] dense tensor from a feature that may be missing in some rows (a SparseTensor)."""
    if isinstance(tensor, tf.SparseTensor):
        tensor = tf.sparse.to_dense(
            tf.SparseTensor(tensor.indices, tensor.values, [tensor.dense_shape[0], 1]), default_value=default
        )
    return tf.reshape(tensor, [-1, 1])


def preprocessing_fn(inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """Raw penguin rows in, model-ready features out (the same graph runs at serving time)."""
    outputs = {}
    for key in NUMERIC_FEATURES:
        # z-scores over the rows that have the value; a missing one becomes 0, the mean. One
        # analyzer per feature, all in one analysis phase (a mean to fill, then a z-score of the
        # filled values, would need two phases: two passes and two traced graphs).
        scaled = tft.scale_to_z_score(tf.cast(inputs[key], tf.float32))
        outputs[transformed_name(key)] = _dense(scaled, 0.0)
    for key in CATEGORICAL_FEATURES:
        outputs[transformed_name(key)] = tft.compute_and_apply_vocabulary(
            _dense(inputs[key], "unknown"), num_oov_buckets=1, vocab_filename=key
        )
    if LABEL in inputs:
        outputs[transformed_name(LABEL)] = tft.compute_and_apply_vocabulary(_dense(inputs[LABEL], ""), vocab_filename=LABEL)
    return outputs


def _dataset(files: list[str], data_accessor, transform_output: tft.TFTransformOutput, epochs: int | None = None):  # noqa: ANN001
    return data_accessor.tf_dataset_factory(
        files,
        tfxio.TensorFlowDatasetOptions(batch_size=BATCH_SIZE, label_key=transformed_name(LABEL), num_epochs=epochs),
        transform_output.transformed_metadata.schema,
    ).repeat()


def _vocabulary_size(transform_output: tft.TFTransformOutput, key: str) -> int:
    return transform_output.vocabulary_size_by_name(key) + 1  # + the out-of-vocabulary bucket


def _hyperparameters() -> keras_tuner.HyperParameters:
    hp = keras_tuner.HyperParameters()
    hp.Choice("learning_rate", [3e-2, 1e-2], default=1e-2)
    hp.Int("layers", 1, 2, default=1)
    hp.Choice("units", [8, 16], default=16)
    return hp


def _build_model(hp: keras_tuner.HyperParameters, vocabulary_sizes: dict[str, int]) -> keras.Model:
    inputs = {transformed_name(k): keras.Input(shape=(1,), name=transformed_name(k)) for k in NUMERIC_FEATURES}
    columns = list(inputs.values())
    for key, size in vocabulary_sizes.items():
        ids = keras.Input(shape=(1,), name=transformed_name(key), dtype="int64")
        inputs[transformed_name(key)] = ids
        columns.append(keras.layers.Flatten()(keras.layers.Embedding(size, 2)(ids)))
    x = keras.layers.concatenate(columns)
    for _ in range(int(hp.get("layers"))):
        x = keras.layers.Dense(int(hp.get("units")), activation="relu")(x)
    model = keras.Model(inputs=inputs, outputs=keras.layers.Dense(SPECIES)(x))
    model.compile(
        optimizer=keras.optimizers.Adam(hp.get("learning_rate")),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    return model


def tuner_fn(fn_args):  # noqa: ANN001, ANN201 - TFX's FnArgs in, TunerFnResult out
    """A small random search; each trial trains on the transformed examples."""
    from pipelinekit import tfx

    transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    sizes = {k: _vocabulary_size(transform_output, k) for k in CATEGORICAL_FEATURES}
    tuner = keras_tuner.RandomSearch(
        lambda hp: _build_model(hp, sizes),
        max_trials=4,
        hyperparameters=_hyperparameters(),
        allow_new_entries=False,
        objective=keras_tuner.Objective("val_sparse_categorical_accuracy", "max"),
        directory=fn_args.working_dir,
        project_name="penguin_tuning",
    )
    return tfx.components.TunerFnResult(
        tuner=tuner,
        fit_kwargs={
            "x": _dataset(fn_args.train_files, fn_args.data_accessor, transform_output),
            "validation_data": _dataset(fn_args.eval_files, fn_args.data_accessor, transform_output),
            "steps_per_epoch": fn_args.train_steps,
            "validation_steps": fn_args.eval_steps,
        },
    )


class _ServingModule(tf.Module):
    """The exported model: raw serialized tf.Examples in, species logits and probabilities out."""

    def __init__(self, model: keras.Model, transform_output: tft.TFTransformOutput) -> None:
        super().__init__()
        self.model = model
        self.transform_layer = transform_output.transform_features_layer()
        raw_spec = transform_output.raw_feature_spec()
        self.serving_spec = {k: v for k, v in raw_spec.items() if k != LABEL}
        self.raw_spec = raw_spec

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve(self, serialized: tf.Tensor) -> dict[str, tf.Tensor]:
        features = self.transform_layer(tf.io.parse_example(serialized, self.serving_spec))
        logits = self.model({k: tf.reshape(v, [-1, 1]) for k, v in features.items()})
        return {"logits": logits, "probabilities": tf.nn.softmax(logits)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform(self, serialized: tf.Tensor) -> dict[str, tf.Tensor]:
        return self.transform_layer(tf.io.parse_example(serialized, self.raw_spec))


def run_fn(fn_args) -> None:  # noqa: ANN001 - TFX's FnArgs
    """Train with the tuned (or default) hyperparameters and export the serving module."""
    transform_output = tft.TFTransformOutput(fn_args.transform_output)
    hp = keras_tuner.HyperParameters.from_config(fn_args.hyperparameters) if fn_args.hyperparameters else _hyperparameters()
    sizes = {k: _vocabulary_size(transform_output, k) for k in CATEGORICAL_FEATURES}
    model = _build_model(hp, sizes)
    model.fit(
        _dataset(fn_args.train_files, fn_args.data_accessor, transform_output),
        steps_per_epoch=fn_args.train_steps,
        validation_data=_dataset(fn_args.eval_files, fn_args.data_accessor, transform_output),
        validation_steps=fn_args.eval_steps,
        callbacks=[keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir)],
        verbose=0,
    )
    module = _ServingModule(model, transform_output)
    signatures = {"serving_default": module.serve, "transform_features": module.transform}
    tf.saved_model.save(module, fn_args.serving_model_dir, signatures=signatures)

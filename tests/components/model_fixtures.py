"""Penguin data and a penguin module file for the model component tests.

This file is both a helper module for the tests and the *module file* the tests give the
Trainer and the Tuner (``run_fn``, ``tuner_fn``, ``preprocessing_fn``), written as a TFX
penguin module is, on Keras 3. Its top level imports nothing heavy so pytest can import it.

``build_penguin_data`` makes what the data components would: raw Examples (penguins.csv as
tf.Examples, missing values as empty features), a Schema, a TransformGraph and the
transformed Examples, with TFDV-free tf.Transform on Beam.
"""

from __future__ import annotations

import json
import os
from typing import Any

NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
CATEGORICAL = ["island", "sex"]
LABEL = "species"
MODULE_FILE = os.path.abspath(__file__)


def xf(name: str) -> str:
    return f"{name}_xf"


# ----------------------------------------------------------------------------- module file


def _dense(tensor: Any, default: Any) -> Any:
    """A [batch] dense tensor from a dense or sparse (missing values) feature."""
    import tensorflow as tf

    if isinstance(tensor, tf.sparse.SparseTensor):
        shape = tf.stack([tensor.dense_shape[0], 1])
        tensor = tf.sparse.to_dense(tf.SparseTensor(tensor.indices, tensor.values, shape), default)
    return tf.reshape(tensor, [-1])


def preprocessing_fn(inputs: dict[str, Any]) -> dict[str, Any]:
    """z-scored measurements and the species as a vocabulary index."""
    import tensorflow_transform as tft

    outputs = {xf(name): tft.scale_to_z_score(_dense(inputs[name], 0.0)) for name in NUMERIC}
    outputs[xf(LABEL)] = tft.compute_and_apply_vocabulary(_dense(inputs[LABEL], b""), vocab_filename=LABEL)
    return outputs


def _dataset(fn_args: Any, files: list[str], tf_transform_output: Any, batch_size: int) -> Any:
    from tfx_bsl.public import tfxio

    options = tfxio.TensorFlowDatasetOptions(batch_size=batch_size, label_key=xf(LABEL))
    schema = tf_transform_output.transformed_metadata.schema
    return fn_args.data_accessor.tf_dataset_factory(files, options, schema).repeat()


def _build_model(hp: Any) -> Any:
    import keras

    inputs = [keras.Input(shape=(1,), name=xf(name)) for name in NUMERIC]
    hidden = keras.layers.Concatenate()(inputs)
    for _ in range(int(hp.get("num_layers"))):
        hidden = keras.layers.Dense(8, activation="relu")(hidden)
    outputs = keras.layers.Dense(3)(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(hp.get("learning_rate")),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    return model


def _hyperparameters(values: dict[str, Any] | None = None) -> Any:
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    hp.Choice("learning_rate", [1e-2, 1e-3], default=1e-2)
    hp.Int("num_layers", 1, 2, default=1)
    for key, value in (values or {}).items():
        hp.values[key] = value
    return hp


def tuner_fn(fn_args: Any) -> Any:
    """A RandomSearch over learning rate and depth (TFX's penguin tuner_fn, smaller)."""
    import keras_tuner
    import tensorflow_transform as tft

    from components.tuner.component import TunerFnResult

    config = fn_args.custom_config or {}
    if config.get("pid_dir"):  # lets a test see which processes ran tuner_fn
        open(os.path.join(config["pid_dir"], str(os.getpid())), "w").close()
    tuner = keras_tuner.RandomSearch(
        _build_model,
        max_trials=config.get("max_trials", 2),
        hyperparameters=_hyperparameters(),
        allow_new_entries=False,
        objective=keras_tuner.Objective("val_sparse_categorical_accuracy", "max"),
        directory=fn_args.working_dir,
        project_name="penguin_tuning",
        seed=1,
    )
    output = tft.TFTransformOutput(fn_args.transform_graph_path)
    fit_kwargs = {
        "x": _dataset(fn_args, fn_args.train_files, output, 16),
        "validation_data": _dataset(fn_args, fn_args.eval_files, output, 16),
        "steps_per_epoch": fn_args.train_steps,
        "validation_steps": fn_args.eval_steps,
        "verbose": 0,
    }
    return TunerFnResult(tuner=tuner, fit_kwargs=fit_kwargs)


def run_fn(fn_args: Any) -> None:
    """Train, then save a SavedModel whose signatures parse raw serialized tf.Examples.

    ``custom_config``: ``epochs`` (default 3), ``learning_rate`` (overrides the
    hyperparameters; a tiny one makes the deliberately worse model), ``fail`` (raise),
    ``no_model`` (save nothing). The FnArgs are recorded in ``<model_run_dir>/fn_args.json``.
    """
    import keras
    import tensorflow as tf
    import tensorflow_transform as tft

    from pipelinekit.tfx.components.trainer.signatures import set_signature_methods

    config = fn_args.custom_config or {}
    _record_fn_args(fn_args)
    if config.get("fail"):
        raise ValueError("custom_config asked run_fn to fail")
    output = tft.TFTransformOutput(fn_args.transform_output)
    hp = _hyperparameters(fn_args.hyperparameters["values"] if fn_args.hyperparameters else None)
    if "learning_rate" in config:
        hp.values["learning_rate"] = config["learning_rate"]
    keras.utils.set_random_seed(config.get("seed", 0))
    model = _build_model(hp)
    model.fit(
        _dataset(fn_args, fn_args.train_files, output, 16),
        steps_per_epoch=fn_args.train_steps,
        epochs=config.get("epochs", 3),
        validation_data=_dataset(fn_args, fn_args.eval_files, output, 16),
        validation_steps=fn_args.eval_steps,
        callbacks=[keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir)],
        verbose=0,
    )
    if config.get("no_model"):
        return
    module = _ServingModule(model, output)
    signatures = {
        "serving_default": module.serve,
        "classify": module.classify,
        "transform_features": module.transform_features,
    }
    tf.saved_model.save(module, fn_args.serving_model_dir, signatures=signatures)
    set_signature_methods(fn_args.serving_model_dir, {"classify": "classify"})


def _record_fn_args(fn_args: Any) -> None:
    record = {k: v for k, v in vars(fn_args).items() if k != "data_accessor"}
    record["data_accessor"] = type(fn_args.data_accessor).__name__
    os.makedirs(fn_args.model_run_dir, exist_ok=True)
    with open(os.path.join(fn_args.model_run_dir, "fn_args.json"), "w") as handle:
        json.dump(record, handle)


def _serving_module_class() -> type:
    import tensorflow as tf

    class ServingModule(tf.Module):
        """serving_default (probabilities), classify (classes + scores) and transform_features."""

        def __init__(self, model: Any, output: Any) -> None:
            super().__init__()
            self.model = model
            self.tft_layer = output.transform_features_layer()
            self.raw_spec = output.raw_feature_spec()
            self.serving_spec = {k: v for k, v in self.raw_spec.items() if k != LABEL}
            self.labels = tf.constant(output.vocabulary_by_name(LABEL))

        def _probabilities(self, serialized: Any) -> Any:
            features = self.tft_layer(tf.io.parse_example(serialized, self.serving_spec))
            logits = self.model({xf(n): tf.reshape(features[xf(n)], [-1, 1]) for n in NUMERIC})
            return tf.nn.softmax(logits)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
        def serve(self, examples: Any) -> Any:
            return {"probabilities": self._probabilities(examples)}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
        def classify(self, inputs: Any) -> Any:
            scores = self._probabilities(inputs)
            classes = tf.tile(tf.reshape(self.labels, [1, -1]), [tf.shape(scores)[0], 1])
            return {"classes": classes, "scores": scores}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
        def transform_features(self, examples: Any) -> Any:
            return self.tft_layer(tf.io.parse_example(examples, self.raw_spec))

    return ServingModule


def _ServingModule(model: Any, output: Any) -> Any:  # noqa: N802 - reads as the class it builds
    return _serving_module_class()(model, output)


# ----------------------------------------------------------------------------- data


def penguin_rows() -> list[dict[str, Any]]:
    """palmerpenguins' penguins.csv as dicts, NaN as None."""
    import palmerpenguins

    frame = palmerpenguins.load_penguins()
    return [{k: (None if v != v else v) for k, v in row.items()} for row in frame.to_dict("records")]  # noqa: PLR0124


def to_example(row: dict[str, Any]) -> Any:
    """A tf.Example with every column; a missing value is an empty feature, as ExampleGen writes it."""
    import tensorflow as tf

    feature = {}
    for name in NUMERIC:
        values = [] if row[name] is None else [float(row[name])]
        feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=values))
    for name in [LABEL, *CATEGORICAL]:
        values = [] if row[name] is None else [row[name].encode()]
        feature[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
    feature["year"] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(row["year"])]))
    return tf.train.Example(features=tf.train.Features(feature=feature))


def raw_feature_spec() -> dict[str, Any]:
    import tensorflow as tf

    spec = {name: tf.io.VarLenFeature(tf.float32) for name in NUMERIC}
    spec.update({name: tf.io.VarLenFeature(tf.string) for name in CATEGORICAL})
    spec[LABEL] = tf.io.FixedLenFeature([], tf.string)
    spec["year"] = tf.io.FixedLenFeature([], tf.int64)
    return spec


def _write_tfrecords(folder: str, records: list[bytes]) -> None:
    import tensorflow as tf

    os.makedirs(folder, exist_ok=True)
    with tf.io.TFRecordWriter(os.path.join(folder, "data_tfrecord-00000-of-00001.gz"), options="GZIP") as writer:
        for record in records:
            writer.write(record)


def build_penguin_data(root: str) -> dict[str, str]:
    """Write raw and transformed penguin Examples (train 2/3, eval 1/3), a Schema and a
    TransformGraph under ``root``; return their folders by artifact name."""
    from components.trainer.keras_version import use_keras3

    use_keras3()  # before tf.Transform's import can bind tf.keras to Keras 2
    import apache_beam as beam
    import tensorflow_transform.beam as tft_beam
    from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io, schema_utils
    from tfx_bsl.public import tfxio
    paths = {name: os.path.join(root, name) for name in ("examples", "schema", "transform_graph", "transformed")}
    rows = penguin_rows()
    splits = {"train": [r for i, r in enumerate(rows) if i % 3], "eval": [r for i, r in enumerate(rows) if not i % 3]}
    for split, chosen in splits.items():
        _write_tfrecords(os.path.join(paths["examples"], f"Split-{split}"), [to_example(r).SerializeToString() for r in chosen])
    schema = schema_utils.schema_from_feature_spec(raw_feature_spec())
    os.makedirs(paths["schema"], exist_ok=True)
    with open(os.path.join(paths["schema"], "schema.pbtxt"), "w") as handle:
        handle.write(str(schema))
    metadata_io.write_metadata(dataset_metadata.DatasetMetadata(schema), os.path.join(paths["transform_graph"], "metadata"))
    with beam.Pipeline() as pipeline, tft_beam.Context(temp_dir=os.path.join(root, "tft_tmp")):
        sources = {
            split: tfxio.TFExampleRecord(os.path.join(paths["examples"], f"Split-{split}", "*"), schema=schema)
            for split in splits
        }
        train = pipeline | "ReadTrain" >> sources["train"].BeamSource()
        config = sources["train"].TensorAdapterConfig()
        transform_fn = (train, config) | tft_beam.AnalyzeDataset(preprocessing_fn)
        _ = transform_fn | tft_beam.WriteTransformFn(paths["transform_graph"])
        for split, source in sources.items():
            data = pipeline | f"Read{split}" >> source.BeamSource()
            (transformed, _) = ((data, config), transform_fn) | f"Transform{split}" >> tft_beam.TransformDataset()
            _ = (
                transformed
                | f"Encode{split}" >> beam.Map(_encode_transformed)
                | f"Write{split}"
                >> beam.io.WriteToTFRecord(
                    os.path.join(paths["transformed"], f"Split-{split}", "data_tfrecord"), file_name_suffix=".gz"
                )
            )
    return paths


def _encode_transformed(instance: dict[str, Any]) -> bytes:
    import tensorflow as tf

    feature = {}
    for name, value in instance.items():
        if isinstance(value, (int,)) or getattr(value, "dtype", None) is not None and value.dtype.kind == "i":
            feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))
        else:
            feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=[float(value)]))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()

"""Penguin data and a penguin module file for the model component tests.

This file is both a helper module for the tests and the *module file* the tests give the
Trainer and the Tuner (``run_fn``, ``tuner_fn``, ``preprocessing_fn``), written as a TFX
penguin module is, on Keras 3. Its top level imports nothing heavy so pytest can import it.

The tests feed it penguins.csv through the data components (CsvExampleGen, StatisticsGen,
SchemaGen, Transform with ``preprocessing_fn`` below).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
CATEGORICAL = ["island", "sex"]
LABEL = "species"
MODULE_FILE = os.path.abspath(__file__)


def xf(name: str) -> str:
    return f"{name}_xf"


# ----------------------------------------------------------------------------- module file


def _dense(tensor: Any) -> Any:
    """A [batch] dense tensor from a dense or sparse (missing values) feature; missing is 0 or b""."""
    import tensorflow as tf

    if isinstance(tensor, tf.sparse.SparseTensor):
        default = tf.constant(b"") if tensor.dtype == tf.string else tf.zeros([], tensor.dtype)
        shape = tf.stack([tensor.dense_shape[0], 1])
        tensor = tf.sparse.to_dense(tf.SparseTensor(tensor.indices, tensor.values, shape), default)
    return tf.reshape(tensor, [-1])


def preprocessing_fn(inputs: dict[str, Any]) -> dict[str, Any]:
    """z-scored measurements and the species as a vocabulary index."""
    import tensorflow as tf
    import tensorflow_transform as tft

    outputs = {xf(name): tft.scale_to_z_score(tf.cast(_dense(inputs[name]), tf.float32)) for name in NUMERIC}
    outputs[xf(LABEL)] = tft.compute_and_apply_vocabulary(_dense(inputs[LABEL]), vocab_filename=LABEL)
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

    from pipelinekit.tfx.components import TunerFnResult

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


# ----------------------------------------------------------------------------- data and pipeline


def write_penguins_csv(folder: str) -> str:
    """palmerpenguins' penguins.csv with ``NA`` cells made empty (what ExampleGen reads as missing)."""
    import palmerpenguins

    source = os.path.join(os.path.dirname(palmerpenguins.__file__), "data", "penguins.csv")
    with open(source) as handle:
        lines = handle.read().splitlines()
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "penguins.csv"), "w") as handle:
        handle.write("\n".join(",".join("" if c == "NA" else c for c in line.split(",")) for line in lines) + "\n")
    return folder


EVAL_CONFIG = {
    "model_specs": [
        {"signature_name": "serving_default", "label_key": xf(LABEL), "preprocessing_function_names": ["transform_features"]}
    ],
    "slicing_specs": [{}, {"feature_keys": ["island"]}],
    "metrics_specs": [
        {
            "metrics": [
                {
                    "class_name": "SparseCategoricalAccuracy",
                    "threshold": {
                        "value_threshold": {"lower_bound": 0.6},
                        "change_threshold": {"direction": "HIGHER_IS_BETTER", "absolute": -1e-10},
                    },
                },
                {"class_name": "ExampleCount"},
            ]
        }
    ],
}

TRAIN_STEPS = 20
EVAL_STEPS = 5


def copy_module_file(folder: str) -> str:
    """This file, copied alone into ``folder``: a module file whose cache key only it decides
    (the key covers the ``.py`` files beside a module file, and this test folder changes)."""
    import shutil

    os.makedirs(folder, exist_ok=True)
    return shutil.copy(MODULE_FILE, os.path.join(folder, "penguin_module.py"))


GOOD_CONFIG = {"epochs": 3}
WORSE_CONFIG = {"epochs": 1, "learning_rate": 1e-5}  # the deliberately worse model


def penguin_trainer(examples: Any, transform_graph: Any, schema: Any, module_file: str, config: dict[str, Any]) -> Any:
    """A Trainer on transformed penguin examples with the tests' step counts and ``config`` as custom_config."""
    from pipelinekit.components import Trainer

    from pipelinekit.tfx import proto

    return Trainer(
        examples=examples,
        transform_graph=transform_graph,
        schema=schema,
        module_file=module_file,
        train_args=proto.TrainArgs(num_steps=TRAIN_STEPS),
        eval_args=proto.EvalArgs(num_steps=EVAL_STEPS),
        custom_config=config,
    )


def model_pipeline(root: str, csv_folder: str, serving_dir: str, module_file: str) -> Any:
    """penguins.csv -> data components -> a good and a deliberately worse Trainer -> Evaluators
    (the worse one against the good one as baseline) -> InfraValidator -> Pushers -> BulkInferrers."""
    from pipelinekit.components import (
        BulkInferrer,
        CsvExampleGen,
        Evaluator,
        InfraValidator,
        Pusher,
        SchemaGen,
        StatisticsGen,
        Transform,
    )

    from pipelinekit import Pipeline, tfx
    from pipelinekit.tfx import proto

    gen = CsvExampleGen(input_base=csv_folder)
    stats = StatisticsGen(examples=gen.outputs["examples"])
    schema = SchemaGen(statistics=stats.outputs["statistics"])
    transform = Transform(examples=gen.outputs["examples"], schema=schema.outputs["schema"], module_file=module_file)

    def trainer(node_id: str, **config: Any) -> Any:
        outputs = transform.outputs
        trainer = penguin_trainer(
            outputs["transformed_examples"], outputs["transform_graph"], schema.outputs["schema"], module_file, config
        )
        return trainer.with_id(node_id)

    good = trainer("Trainer", **GOOD_CONFIG)
    worse = trainer("worse_trainer", **WORSE_CONFIG)
    raw = gen.outputs["examples"]
    evaluator = Evaluator(examples=raw, model=good.outputs["model"], eval_config=EVAL_CONFIG)
    worse_evaluator = Evaluator(
        examples=raw,
        model=worse.outputs["model"],
        baseline_model=good.outputs["model"],
        schema=schema.outputs["schema"],
        example_splits=["train", "eval"],
        eval_config=EVAL_CONFIG,
    ).with_id("worse_evaluator")
    infra = InfraValidator(
        model=good.outputs["model"],
        examples=raw,
        serving_spec=proto.ServingSpec(
            tensorflow_serving=proto.TensorFlowServing(tags=["2.16.1"]),
            local_docker=proto.LocalDockerConfig(),
            model_name="penguin",
        ),
        request_spec=proto.RequestSpec(
            tensorflow_serving=proto.TensorFlowServingRequestSpec(signature_names=["serving_default", "classify"]),
            num_examples=3,
            make_warmup=True,
        ),
    )
    destination = proto.PushDestination(filesystem=proto.PushDestination.Filesystem(base_directory=serving_dir))
    pusher = Pusher(
        model=good.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        infra_blessing=infra.outputs["blessing"],
        push_destination=destination,
    )
    worse_pusher = Pusher(
        model=worse.outputs["model"], model_blessing=worse_evaluator.outputs["blessing"], push_destination=destination
    ).with_id("worse_pusher")
    with tfx.dsl.Cond(worse_evaluator.outputs["blessing"].future()[0].custom_property("blessed") == 1):
        gated_pusher = Pusher(
            model=worse.outputs["model"], model_blessing=worse_evaluator.outputs["blessing"], push_destination=destination
        ).with_id("gated_pusher")  # TFX's conditional pattern: skipped, since the worse model is not blessed
    inferrer = BulkInferrer(examples=raw, model=good.outputs["model"], model_blessing=evaluator.outputs["blessing"])
    example_inferrer = BulkInferrer(
        examples=raw,
        model=good.outputs["model"],
        data_spec=proto.DataSpec(example_splits=["eval"]),
        model_spec=proto.ModelSpec(model_signature_name=["classify"]),
        output_example_spec=proto.OutputExampleSpec(
            output_columns_spec=[
                proto.OutputColumnsSpec(
                    signature_name="classify", classify_output=proto.ClassifyOutput(label_column="label", score_column="score")
                )
            ]
        ),
    ).with_id("example_inferrer")
    return Pipeline("penguin_model", root, [pusher, worse_pusher, gated_pusher, inferrer, example_inferrer])


@dataclass
class ModelRun:
    """One run of :func:`model_pipeline`: where it wrote, and its RunResult."""

    root: str
    csv_folder: str
    serving_dir: str
    module_file: str
    result: Any
    seconds: float

    def output(self, node: str, key: str) -> Any:
        return self.result.nodes[node].outputs[key][0]


_RUNS: dict[str, ModelRun] = {}


def shared_model_run(base: str) -> ModelRun:
    """The model pipeline run once per test session (under ``base``), shared by the test modules."""
    if base not in _RUNS:
        import time

        from pipelinekit import LocalDagRunner

        csv_folder = write_penguins_csv(os.path.join(base, "csv"))
        module_file = copy_module_file(os.path.join(base, "module"))
        root, serving = os.path.join(base, "root"), os.path.join(base, "serving", "penguin")
        started = time.perf_counter()
        result = LocalDagRunner().run(model_pipeline(root, csv_folder, serving, module_file))
        _RUNS[base] = ModelRun(root, csv_folder, serving, module_file, result, time.perf_counter() - started)
    return _RUNS[base]

"""The penguin pipeline: raw Palmer penguins rows to a blessed, validated, served model.

CsvExampleGen -> StatisticsGen -> SchemaGen -> ExampleValidator -> Transform -> Tuner ->
Trainer -> Evaluator (slices by island and sex, an accuracy threshold, the last blessed model as
baseline) -> InfraValidator -> Pusher, and BulkInferrer over unlabelled rows.

    pipelinekit run examples/penguin/pipeline.py     # about 25 s cold on 2 cores, cached after

Declaring it imports no TensorFlow: the EvalConfig is written as a dict in TFMA's JSON form,
so a fully cached rerun never pays for TensorFlow's import.
"""

from __future__ import annotations

import os

from pipelinekit.components import (
    BulkInferrer,
    CsvExampleGen,
    Evaluator,
    ExampleValidator,
    ImportExampleGen,
    ImportSchemaGen,
    InfraValidator,
    Pusher,
    SchemaGen,
    StatisticsGen,
    Trainer,
    Transform,
    Tuner,
)

from pipelinekit import Channel, Model, ModelBlessing, Pipeline, Resolver
from pipelinekit.dsl.resolver import LatestBlessedModelStrategy
from pipelinekit.tfx import proto

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("PENGUIN_ROOT", os.path.join(HERE, "pipeline_root"))
SERVING_MODEL_DIR = os.path.join(ROOT, "serving_model", "penguin")
MODULE_FILE = "penguin_module.py"
ACCURACY_THRESHOLD = float(os.environ.get("PENGUIN_ACCURACY_THRESHOLD", "0.8"))
TRAIN_STEPS = int(os.environ.get("PENGUIN_TRAIN_STEPS", "200"))
# Retrain on the monitor's feedback spans (<base>/span-<N>/, tf.Examples with the species label;
# examples/monitoring/closed_loop.py) instead of the CSV: ExampleGen reads the newest span. With
# PENGUIN_SCHEMA_FILE, a curated schema (say the first run's) replaces the inferred one, so a model
# retrained on a span where no value happens to be missing still takes rows with missing values.
FEEDBACK_BASE = os.environ.get("PENGUIN_FEEDBACK_BASE")
SCHEMA_FILE = os.environ.get("PENGUIN_SCHEMA_FILE")

EVAL_CONFIG = {
    "model_specs": [
        {"signature_name": "serving_default", "label_key": "species_xf", "preprocessing_function_names": ["transform_features"]}
    ],
    "slicing_specs": [{}, {"feature_keys": ["island"]}, {"feature_keys": ["sex"]}],
    "metrics_specs": [
        {
            "metrics": [
                {"class_name": "ExampleCount"},
                {
                    "class_name": "SparseCategoricalAccuracy",
                    "threshold": {
                        "value_threshold": {"lower_bound": ACCURACY_THRESHOLD},
                        "change_threshold": {"direction": "HIGHER_IS_BETTER", "absolute": -1e-10},
                    },
                },
            ]
        }
    ],
}

if FEEDBACK_BASE:
    example_gen = ImportExampleGen(
        input_base=FEEDBACK_BASE, input_config=proto.Input(splits=[proto.Input.Split(name="feedback", pattern="span-{SPAN}/*")])
    )
else:
    example_gen = CsvExampleGen(input_base="data/labelled")
statistics_gen = StatisticsGen(examples=example_gen.outputs["examples"])
if SCHEMA_FILE:
    schema_gen = ImportSchemaGen(schema_file=SCHEMA_FILE)
else:
    schema_gen = SchemaGen(statistics=statistics_gen.outputs["statistics"], infer_feature_shape=True)
example_validator = ExampleValidator(statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"])
transform = Transform(examples=example_gen.outputs["examples"], schema=schema_gen.outputs["schema"], module_file=MODULE_FILE)
tuner = Tuner(
    module_file=MODULE_FILE,
    examples=transform.outputs["transformed_examples"],
    transform_graph=transform.outputs["transform_graph"],
    train_args=proto.TrainArgs(num_steps=20),
    eval_args=proto.EvalArgs(num_steps=5),
)  # tune_args=proto.TuneArgs(num_parallel_trials=2) runs trials in parallel processes; each pays TensorFlow's
# import (about 10 s here), so on 2 cores the 4 short trials below are faster one after another
trainer = Trainer(
    module_file=MODULE_FILE,
    examples=transform.outputs["transformed_examples"],
    transform_graph=transform.outputs["transform_graph"],
    schema=schema_gen.outputs["schema"],
    hyperparameters=tuner.outputs["best_hyperparameters"],
    train_args=proto.TrainArgs(num_steps=TRAIN_STEPS),
    eval_args=proto.EvalArgs(num_steps=5),
)
baseline = Resolver(
    strategy_class=LatestBlessedModelStrategy,
    model=Channel(type=Model),
    model_blessing=Channel(type=ModelBlessing),
).with_id("latest_blessed_model_resolver")
evaluator = Evaluator(
    examples=example_gen.outputs["examples"],
    model=trainer.outputs["model"],
    baseline_model=baseline.outputs["model"],
    eval_config=EVAL_CONFIG,
)
infra_validator = InfraValidator(
    model=trainer.outputs["model"],
    examples=example_gen.outputs["examples"],
    serving_spec=proto.ServingSpec(
        tensorflow_serving=proto.TensorFlowServing(tags=["latest"]), local_docker=proto.LocalDockerConfig()
    ),
    request_spec=proto.RequestSpec(tensorflow_serving=proto.TensorFlowServingRequestSpec(), num_examples=5),
)
pusher = Pusher(
    model=trainer.outputs["model"],
    model_blessing=evaluator.outputs["blessing"],
    infra_blessing=infra_validator.outputs["blessing"],
    push_destination=proto.PushDestination(filesystem=proto.PushDestination.Filesystem(base_directory=SERVING_MODEL_DIR)),
)
unlabelled = CsvExampleGen(input_base="data/unlabelled").with_id("CsvExampleGen_Unlabelled")
bulk_inferrer = BulkInferrer(
    examples=unlabelled.outputs["examples"],
    model=trainer.outputs["model"],
    model_blessing=evaluator.outputs["blessing"],
    data_spec=proto.DataSpec(),
    model_spec=proto.ModelSpec(),
)

pipeline = Pipeline(
    pipeline_name="penguin",
    pipeline_root=ROOT,
    components=[example_validator, pusher, bulk_inferrer],
    beam_pipeline_args=["--direct_num_workers=1"],
)

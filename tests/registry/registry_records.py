"""Pipeline histories written straight through pipelinekit's metadata layer, as runs record them.

Each :func:`record_run` writes one run of ExampleGen -> StatisticsGen -> SchemaGen -> Transform ->
Trainer -> Evaluator -> Pusher (7 executions, 10 artifacts): the executions (with their contexts, parameters and cache parts) and the
artifacts (spans, fingerprints, schema, metrics, blessing, the PushedModel) a real run writes,
without TensorFlow or Beam. The registry tests and ``bench/registry_bench.py`` build their
stores with it; a real pipeline run is tested in test_registry_pipeline.py.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from typing import Any

from pipelinekit.metadata.store import NODE, PIPELINE, PIPELINE_RUN, MetadataStore, node_context_name
from pipelinekit.types.artifact import Artifact
from pipelinekit.types.standard import (
    Examples,
    ExampleStatistics,
    Model,
    ModelBlessing,
    ModelEvaluation,
    ModelRun,
    PushedModel,
    Schema,
    TransformGraph,
)

HALF_PLUS_TWO_VERSION = os.path.join(os.path.dirname(__file__), os.pardir, "data", "half_plus_two", "00000123")


@dataclass
class RunSpec:
    """What one recorded run differs in."""

    run_id: str
    version: int
    span: int = 1
    fingerprint: str = "data-1"
    required: tuple[str, ...] = ("x",)
    blessed: int = 1
    accuracy: float = 0.9
    learning_rate: float = 0.01
    copy_model: bool = True


def _node(store: MetadataStore, pipeline: str, run_id: str, node_id: str, type_name: str, inputs: dict[str, list[Artifact]],
          outputs: dict[str, list[Artifact]], parameters: dict[str, Any] | None = None) -> int:  # fmt: skip
    contexts = [
        store.context(PIPELINE, pipeline),
        store.context(PIPELINE_RUN, run_id),
        store.context(NODE, node_context_name(pipeline, node_id)),
    ]
    now = time.time()
    properties = {
        "node_id": node_id,
        "run_id": run_id,
        "pipeline_name": pipeline,
        "started_at": now,
        "parameters": parameters or {},
        "cache_parts": {"code": f"code-of-{type_name}", "libraries": {"tensorflow": "2.16.2"}},
    }
    execution_id = store.register_execution(type_name, contexts, inputs, properties)
    store.publish_execution(execution_id, contexts, outputs, {"finished_at": now})
    return execution_id


def _schema_file(folder: str, required: tuple[str, ...]) -> None:
    os.makedirs(folder, exist_ok=True)
    features = "".join(
        f'feature {{ name: "{name}" type: FLOAT presence {{ min_fraction: {1.0 if name in required else 0.5} }} }}\n'
        for name in ("x", "y", "z")
    )
    with open(os.path.join(folder, "schema.pbtxt"), "w") as handle:
        handle.write(features)


def record_run(
    store: MetadataStore, root: str, serving_base: str, spec: RunSpec, pipeline: str = "penguin_pipeline"
) -> PushedModel:
    """Record one run that pushes ``serving_base/<spec.version>``; copy half_plus_two there if asked."""
    run_dir = os.path.join(root, spec.run_id)
    store.context(PIPELINE_RUN, spec.run_id, {"run_id": spec.run_id, "status": "COMPLETE"})
    raw = Examples(os.path.join(run_dir, "examples"))
    raw.span, raw.splits = spec.span, ["train", "eval"]
    raw.set_custom_property("span", spec.span)
    raw.set_custom_property("input_fingerprint", spec.fingerprint)
    _node(store, pipeline, spec.run_id, "CsvExampleGen", "CsvExampleGen", {}, {"examples": [raw]}, {"input_base": "/data"})
    statistics = ExampleStatistics(os.path.join(run_dir, "statistics"))
    statistics.set_custom_property(
        "summary", {"train": {"num_examples": 100 + spec.span, "features": {"x": {"mean": spec.span / 2, "missing": 0}}}}
    )
    _node(store, pipeline, spec.run_id, "StatisticsGen", "StatisticsGen", {"examples": [raw]}, {"statistics": [statistics]})
    schema = Schema(os.path.join(run_dir, "schema"))
    _schema_file(schema.uri, spec.required)
    _node(store, pipeline, spec.run_id, "SchemaGen", "SchemaGen", {"statistics": [statistics]}, {"schema": [schema]})
    transformed, graph = Examples(os.path.join(run_dir, "transformed")), TransformGraph(os.path.join(run_dir, "graph"))
    transformed.splits = ["train", "eval"]
    _node(store, pipeline, spec.run_id, "Transform", "Transform", {"examples": [raw], "schema": [schema]},
          {"transformed_examples": [transformed], "transform_graph": [graph]})  # fmt: skip
    model, model_run = Model(os.path.join(run_dir, "model")), ModelRun(os.path.join(run_dir, "model_run"))
    trainer_inputs = {"examples": [transformed], "schema": [schema], "transform_graph": [graph]}
    trainer_outputs = {"model": [model], "model_run": [model_run]}
    _node(
        store, pipeline, spec.run_id, "Trainer", "Trainer", trainer_inputs, trainer_outputs, {"learning_rate": spec.learning_rate}
    )
    evaluation, blessing = ModelEvaluation(os.path.join(run_dir, "evaluation")), ModelBlessing(os.path.join(run_dir, "blessing"))
    evaluation.set_custom_property("metrics", {"sparse_categorical_accuracy": spec.accuracy, "example_count": 60.0})
    blessing.set_custom_property("blessed", spec.blessed)
    blessing.set_custom_property("reason", "every metric threshold in eval_config is met" if spec.blessed else "accuracy too low")
    _node(store, pipeline, spec.run_id, "Evaluator", "Evaluator", {"examples": [raw], "model": [model]},
          {"evaluation": [evaluation], "blessing": [blessing]})  # fmt: skip
    destination = os.path.join(serving_base, str(spec.version))
    if spec.copy_model:
        shutil.copytree(HALF_PLUS_TWO_VERSION, destination)
    pushed = PushedModel(os.path.join(run_dir, "pushed"))
    pushed.pushed, pushed.pushed_version, pushed.pushed_destination = 1, str(spec.version), destination
    _node(
        store,
        pipeline,
        spec.run_id,
        "Pusher",
        "Pusher",
        {"model": [model], "model_blessing": [blessing]},
        {"pushed_model": [pushed]},
    )
    return pushed

"""Two runs of one pipeline, as TFX's penguin example does them: run 1 trains a good model, which
is blessed and pushed; run 2 trains a deliberately worse one. Run 2's baseline comes through a
real Resolver (LatestBlessedModelStrategy over ML Metadata), so the worse model is NOT_BLESSED
against run 1's and is not pushed."""

from __future__ import annotations

import os

import pytest
from model_fixtures import EVAL_CONFIG, GOOD_CONFIG, WORSE_CONFIG, penguin_trainer, shared_model_run

pytestmark = pytest.mark.slow


def _pipeline(root: str, serving_dir: str, inputs: dict[str, str], module_file: str, trainer_config: dict) -> object:
    from pipelinekit.components import Evaluator, Pusher

    from pipelinekit import Channel, LatestBlessedModelStrategy, Pipeline, Resolver, importer
    from pipelinekit.tfx import proto
    from pipelinekit.types.standard import Examples, Model, ModelBlessing, Schema, TransformGraph

    splits = {"split_names": '["train", "eval"]'}
    raw = importer(inputs["raw"], Examples, properties=splits).with_id("raw")
    transformed = importer(inputs["transformed"], Examples, properties=splits).with_id("transformed")
    graph = importer(inputs["graph"], TransformGraph).with_id("graph")
    schema = importer(inputs["schema"], Schema).with_id("schema")
    trainer = penguin_trainer(
        transformed.outputs["result"], graph.outputs["result"], schema.outputs["result"], module_file, trainer_config
    )
    baseline = Resolver(
        strategy_class=LatestBlessedModelStrategy, model=Channel(type=Model), model_blessing=Channel(type=ModelBlessing)
    ).with_id("latest_blessed_model_resolver")
    evaluator = Evaluator(
        examples=raw.outputs["result"],
        model=trainer.outputs["model"],
        baseline_model=baseline.outputs["model"],
        eval_config=EVAL_CONFIG,
    )
    pusher = Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=proto.PushDestination(filesystem=proto.PushDestination.Filesystem(base_directory=serving_dir)),
    )
    return Pipeline("second_run", root, [trainer, baseline, evaluator, pusher])


def _versions(serving_dir: str) -> list[str]:
    return sorted(name for name in os.listdir(serving_dir) if name.isdigit())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from pipelinekit import LocalDagRunner

    good = shared_model_run(str(tmp_path_factory.getbasetemp() / "model_run"))
    tmp = tmp_path_factory.mktemp("second_run")
    inputs = {
        "raw": good.output("CsvExampleGen", "examples").uri,
        "transformed": good.output("Transform", "transformed_examples").uri,
        "graph": good.output("Transform", "transform_graph").uri,
        "schema": good.output("SchemaGen", "schema").uri,
    }
    root, serving = str(tmp / "root"), str(tmp / "serving")
    first = LocalDagRunner().run(_pipeline(root, serving, inputs, good.module_file, GOOD_CONFIG))
    second = LocalDagRunner().run(_pipeline(root, serving, inputs, good.module_file, WORSE_CONFIG))
    return first, second, serving


def test_first_run_has_no_baseline_and_pushes_its_model(runs):
    first, _, serving = runs
    assert first.succeeded, {n: (r.status, r.error) for n, r in first.nodes.items()}
    assert first.nodes["latest_blessed_model_resolver"].outputs["model"] == []
    blessing = first.output("Evaluator", "blessing")
    assert blessing.blessed == 1 and "baseline_model" not in blessing.custom_properties
    pushed = first.output("Pusher", "pushed_model")
    assert pushed.pushed == 1 and _versions(serving) == [pushed.pushed_version]


def test_worse_second_run_is_not_blessed_against_the_resolved_baseline_and_not_pushed(runs):
    first, second, serving = runs
    assert second.succeeded, {n: (r.status, r.error) for n, r in second.nodes.items()}
    first_model = first.output("Trainer", "model")
    [baseline] = second.nodes["latest_blessed_model_resolver"].outputs["model"]
    assert baseline.id == first_model.id
    blessing = second.output("Evaluator", "blessing")
    assert os.listdir(blessing.uri) == ["NOT_BLESSED"] and blessing.blessed == 0
    assert blessing.custom_properties["baseline_model_id"] == first_model.id
    assert blessing.custom_properties["current_model_id"] == second.output("Trainer", "model").id
    assert "change vs baseline" in blessing.custom_properties["reason"]
    pushed = second.output("Pusher", "pushed_model")
    assert pushed.pushed == 0 and "is not blessed" in pushed.custom_properties["reason"]
    assert _versions(serving) == [first.output("Pusher", "pushed_model").pushed_version]

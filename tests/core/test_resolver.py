"""Resolvers: strategies on their own, then real runs on ML Metadata (SQLite) across several runs."""

from __future__ import annotations

import json
import os

import pytest
from mlmd_helpers import executions_of, raw_store, state_name

from pipelinekit import (
    BeamDagRunner,
    Channel,
    Component,
    Examples,
    InputArtifact,
    InputSpec,
    LatestArtifactStrategy,
    LatestBlessedModelStrategy,
    LocalDagRunner,
    Model,
    ModelBlessing,
    OutputArtifact,
    OutputSpec,
    Parameter,
    Pipeline,
    Resolver,
    ResolverStrategy,
    SpanRangeStrategy,
    compile_pipeline,
    component,
)
from pipelinekit.dsl.resolver import InvalidStrategyError, ResolutionError, ResolverArgumentError
from pipelinekit.errors import CompileError, DefinitionError
from pipelinekit.proto import range_config_pb2
from pipelinekit.types.artifact import Artifact

# Components -------------------------------------------------------------------------------------


@component
def train(model: OutputArtifact[Model], quality: Parameter[float]) -> None:
    with open(os.path.join(model.uri, "quality"), "w") as handle:
        handle.write(str(quality))


def read_quality(model: Model) -> float:
    with open(os.path.join(model.uri, "quality")) as handle:
        return float(handle.read())


@component
def evaluate(
    model: InputArtifact[Model],
    blessing: OutputArtifact[ModelBlessing],
    threshold: Parameter[float],
    baseline_model: InputArtifact[Model] | None = None,
) -> None:
    """Blesses a model at least as good as the threshold and the baseline; notes the baseline."""
    quality = read_quality(model)
    baseline = read_quality(baseline_model) if baseline_model is not None else None
    blessing.mark(quality >= threshold and (baseline is None or quality >= baseline))
    blessing.current_model_id = model.id
    with open(os.path.join(blessing.uri, "baseline.json"), "w") as handle:
        json.dump({"id": baseline_model.id if baseline_model else None, "quality": baseline}, handle)


@component
def push(model: InputArtifact[Model], pushed: OutputArtifact[Model]) -> None:
    with open(os.path.join(pushed.uri, "source"), "w") as handle:
        handle.write(str(model.id))


def baseline_seen(blessing: Artifact) -> dict:
    with open(os.path.join(blessing.uri, "baseline.json")) as handle:
        return json.load(handle)


def latest_blessed_resolver() -> Resolver:
    return Resolver(
        strategy_class=LatestBlessedModelStrategy, model=Channel(type=Model), model_blessing=Channel(type=ModelBlessing)
    ).with_id("latest_blessed_model_resolver")


def evaluation_pipeline(root: str, quality: float) -> Pipeline:
    trainer = train(quality=quality).with_id("trainer")
    resolver = latest_blessed_resolver()
    evaluator = evaluate(
        model=trainer.outputs["model"], baseline_model=resolver.outputs["model"], threshold=0.6
    ).with_id("evaluator")
    return Pipeline("blessings", root, [trainer, resolver, evaluator])


# Strategies on their own --------------------------------------------------------------------------


def artifact(cls: type[Artifact], artifact_id: int, **custom) -> Artifact:
    made = cls(f"/data/{cls.TYPE_NAME}/{artifact_id}")
    made.id = artifact_id
    made.custom_properties.update(custom)
    return made


def test_latest_blessed_model_is_the_newest_model_with_a_positive_blessing():
    models = [artifact(Model, i) for i in (1, 2, 3)]
    blessings = [
        artifact(ModelBlessing, 11, blessed=1, current_model_id=1),
        artifact(ModelBlessing, 12, blessed=1, current_model_id=2),
        artifact(ModelBlessing, 13, blessed=0, current_model_id=3),
    ]
    chosen = LatestBlessedModelStrategy().resolve_artifacts(None, {"model": models, "model_blessing": blessings})
    assert [a.id for a in chosen["model"]] == [2]
    assert [a.id for a in chosen["model_blessing"]] == [12]


def test_latest_blessed_model_gives_empty_lists_when_nothing_is_blessed():
    strategy = LatestBlessedModelStrategy()
    unblessed = [artifact(ModelBlessing, 5, blessed=0, current_model_id=1)]
    assert strategy.resolve_artifacts(None, {"model": [], "model_blessing": []}) == {"model": [], "model_blessing": []}
    assert strategy.resolve_artifacts(None, {"model": [artifact(Model, 1)], "model_blessing": unblessed}) == {
        "model": [],
        "model_blessing": [],
    }
    with pytest.raises(ResolutionError, match="only Model and ModelBlessing"):
        strategy.resolve_artifacts(None, {"model": [artifact(Examples, 1)], "model_blessing": unblessed})


def test_latest_artifact_strategy_keeps_the_newest_n_and_waits_for_every_channel_to_have_n():
    strategy = LatestArtifactStrategy(desired_num_of_artifacts=2)
    chosen = strategy.resolve_artifacts(None, {"a": [artifact(Model, i) for i in (3, 1, 7)], "b": [artifact(Model, 4), artifact(Model, 2)]})
    assert {k: [a.id for a in v] for k, v in chosen.items()} == {"a": [7, 3], "b": [4, 2]}
    assert strategy.resolve_artifacts(None, {"a": [artifact(Model, 1)], "b": [artifact(Model, 4), artifact(Model, 2)]}) is None
    for wrong in (0, -1, True, "2"):
        with pytest.raises(ResolverArgumentError, match="desired_num_of_artifacts"):
            LatestArtifactStrategy(desired_num_of_artifacts=wrong)


def spans(*pairs: tuple[int, int]) -> list[Artifact]:
    """Examples artifacts from ``(id, span)`` pairs, the span as TFX's ExampleGen records it."""
    return [artifact(Examples, artifact_id, span=span) for artifact_id, span in pairs]


def test_span_range_static_and_rolling_ranges_newest_artifact_per_span_highest_span_first():
    examples = spans((1, 1), (2, 2), (3, 3), (4, 2), (5, 4))
    static = SpanRangeStrategy(range_config=range_config_pb2.RangeConfig(static_range={"start_span_number": 2, "end_span_number": 3}))
    assert [a.id for a in static.resolve_artifacts(None, {"examples": examples})["examples"]] == [3, 4]
    rolling = SpanRangeStrategy(range_config={"rolling_range": {"num_spans": 3}})
    assert [a.id for a in rolling.resolve_artifacts(None, {"examples": examples})["examples"]] == [5, 3, 4]
    clipped = SpanRangeStrategy(range_config=json.dumps({"rollingRange": {"startSpanNumber": 4, "numSpans": 3}}))
    assert [a.id for a in clipped.resolve_artifacts(None, {"examples": examples})["examples"]] == [5]
    assert clipped.resolve_artifacts(None, {"examples": []}) == {"examples": []}


def test_span_is_read_from_a_string_custom_property_or_the_typed_property_and_its_absence_is_an_error():
    typed = Examples("/e/9", span=7)
    typed.id = 9
    strategy = SpanRangeStrategy(range_config={"static_range": {"start_span_number": 0, "end_span_number": 10}})
    chosen = strategy.resolve_artifacts(None, {"e": [artifact(Examples, 8, span="3"), typed]})
    assert [a.id for a in chosen["e"]] == [9, 8]
    with pytest.raises(ResolutionError, match=r"Examples\(id=4.*has no span"):
        strategy.resolve_artifacts(None, {"e": [artifact(Examples, 4)]})


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"rolling_range": {"num_spans": 0}}, "num_spans must be positive"),
        ({"static_range": {"start_span_number": 5, "end_span_number": 2}}, "below start_span_number"),
        ({}, "neither static_range nor rolling_range"),
        ("{not json", "not RangeConfig JSON"),
        (42, "must be a RangeConfig proto"),
        ({"static_range": {"start_span_number": "x"}}, "must be an integer"),
    ],
)
def test_bad_range_configs_are_refused_when_the_strategy_is_made(config, message):
    with pytest.raises(ResolverArgumentError, match=message):
        SpanRangeStrategy(range_config=config)


# Declaring resolvers ------------------------------------------------------------------------------


def test_resolver_outputs_mirror_its_channels_and_refuse_what_tfx_refuses():
    resolver = latest_blessed_resolver()
    assert resolver.id == "latest_blessed_model_resolver"
    assert resolver.outputs["model"].type is Model and resolver.outputs["model_blessing"].type is ModelBlessing
    with pytest.raises(TypeError, match="must be a ResolverStrategy subclass"):
        Resolver(strategy_class=dict, model=Channel(type=Model))
    with pytest.raises(InvalidStrategyError):
        Resolver(strategy_class=LatestArtifactStrategy(), model=Channel(type=Model))
    with pytest.raises(ValueError, match="config is given without a strategy_class"):
        Resolver(config={"desired_num_of_artifacts": 2}, model=Channel(type=Model))
    with pytest.raises(ValueError, match="must be channels.*model='not a channel'"):
        Resolver(strategy_class=LatestArtifactStrategy, model="not a channel")
    with pytest.raises(ResolverArgumentError, match="does not fit LatestArtifactStrategy"):
        Resolver(strategy_class=LatestArtifactStrategy, config={"num": 2}, model=Channel(type=Model))
    with pytest.raises(ResolverArgumentError, match="at least one channel"):
        Resolver(strategy_class=LatestArtifactStrategy)


def test_channel_forms_and_their_mistakes():
    trainer = train(quality=1.0)
    assert trainer.outputs["model"].producer is trainer
    legacy = Channel(trainer, "model", Model)
    assert legacy.producer_component_id == "train" and legacy.label == "train.outputs['model']"
    assert Channel(Model).producer is None and Channel(Model).type is Model
    named = Channel(type=Examples, producer_component_id="gen", output_key="examples")
    assert repr(named) == "Channel(type=Examples, producer_component_id='gen', output_key='examples')"
    with pytest.raises(DefinitionError, match="needs an Artifact subclass"):
        Channel(type=str)
    with pytest.raises(DefinitionError, match="disagree"):
        Channel(trainer, "model", Model, type=Examples)
    with pytest.raises(DefinitionError, match="needs an output_key"):
        Channel(trainer, artifact_type=Model)
    with pytest.raises(DefinitionError, match="producer_component_id must be a str, got int 3"):
        Channel(type=Model, producer_component_id=3)


def test_compiling_checks_strategy_channel_types_and_orders_named_producers_first(pipeline_root):
    wrong = Resolver(strategy_class=LatestBlessedModelStrategy, model=Channel(type=Model)).with_id("wrong")
    with pytest.raises(CompileError) as caught:
        compile_pipeline(Pipeline("p", pipeline_root, [wrong]))
    assert caught.value.problems == [
        "node 'wrong': LatestBlessedModelStrategy takes exactly one Model and one ModelBlessing channel, got model: Model"
    ]
    trainer = train(quality=1.0).with_id("trainer")
    latest = Resolver(
        strategy_class=LatestArtifactStrategy, model=Channel(type=Model, producer_component_id="trainer")
    ).with_id("latest")
    plan = compile_pipeline(Pipeline("p", pipeline_root, [latest, trainer]))
    assert plan.upstream["latest"] == ("trainer",)
    assert plan.layers == (("trainer",), ("latest",))


# Runs ----------------------------------------------------------------------------------------------


def statuses(result) -> dict[str, str]:
    return {node_id: r.status for node_id, r in result.nodes.items()}


def test_latest_blessed_model_over_runs_first_nothing_then_the_blessed_one_never_an_unblessed_one(pipeline_root):
    first = LocalDagRunner().run(evaluation_pipeline(pipeline_root, quality=0.9))
    assert first.succeeded and statuses(first) == {"trainer": "ran", "latest_blessed_model_resolver": "ran", "evaluator": "ran"}
    assert first.nodes["latest_blessed_model_resolver"].reason == "LatestBlessedModelStrategy found nothing yet"
    assert first.artifacts("latest_blessed_model_resolver", "model") == []
    assert baseline_seen(first.output("evaluator", "blessing")) == {"id": None, "quality": None}
    good_model = first.output("trainer", "model")

    second = LocalDagRunner().run(evaluation_pipeline(pipeline_root, quality=0.9))
    assert statuses(second) == {"trainer": "cached", "latest_blessed_model_resolver": "ran", "evaluator": "ran"}
    assert [a.id for a in second.artifacts("latest_blessed_model_resolver", "model")] == [good_model.id]
    assert second.nodes["evaluator"].reason == "input 'baseline_model' changed"
    assert baseline_seen(second.output("evaluator", "blessing"))["id"] == good_model.id

    third = LocalDagRunner().run(evaluation_pipeline(pipeline_root, quality=0.9))  # same resolution: a cache hit
    assert statuses(third) == {"trainer": "cached", "latest_blessed_model_resolver": "ran", "evaluator": "cached"}

    worse = LocalDagRunner().run(evaluation_pipeline(pipeline_root, quality=0.3))  # a newer model, NOT blessed
    assert worse.succeeded and worse.output("evaluator", "blessing").blessed == 0
    after = LocalDagRunner().run(evaluation_pipeline(pipeline_root, quality=0.3))
    assert [a.id for a in after.artifacts("latest_blessed_model_resolver", "model")] == [good_model.id]
    assert after.output("trainer", "model").id > good_model.id

    store = raw_store(pipeline_root)
    resolutions = executions_of(store, "latest_blessed_model_resolver")
    assert [state_name(e) for e in resolutions] == ["COMPLETE"] * 5
    events = store.get_events_by_execution_ids([resolutions[0].id, resolutions[1].id])
    assert [e.execution_id for e in events] == [resolutions[1].id] * 2  # nothing found on the first run
    assert {e.artifact_id for e in events} == {good_model.id, first.output("evaluator", "blessing").id}
    assert all(e.type == e.INPUT for e in events)


def test_a_required_input_left_empty_by_a_resolver_skips_the_consumer_without_failing_the_run(pipeline_root):
    resolver = latest_blessed_resolver()
    pusher = push(model=resolver.outputs["model"]).with_id("pusher")
    result = LocalDagRunner().run(Pipeline("skips", pipeline_root, [pusher]))
    assert result.succeeded and result.status == "COMPLETE"
    assert statuses(result) == {"latest_blessed_model_resolver": "ran", "pusher": "skipped"}
    assert result.nodes["pusher"].reason == "required input 'model' got no artifact from latest_blessed_model_resolver.outputs['model']"
    [skipped] = executions_of(raw_store(pipeline_root), "pusher")
    assert state_name(skipped) == "CANCELED" and skipped.custom_properties["reason"].string_value == result.nodes["pusher"].reason


class Summarize(Component):
    """Takes every Examples artifact a resolver gives and lists their spans."""

    examples = InputSpec(Examples, multiple=True)
    summary = OutputSpec(Examples)

    @staticmethod
    def _write(context, examples, summary):
        with open(os.path.join(summary.uri, "spans.json"), "w") as handle:
            json.dump([e.span for e in examples], handle)

    EXECUTOR = _write


@component
def ingest(examples: OutputArtifact[Examples], span: Parameter[int]) -> None:
    examples.span = span
    examples.set_custom_property("span", span)
    with open(os.path.join(examples.uri, "span"), "w") as handle:
        handle.write(str(span))


def rolling_pipeline(root: str, span: int) -> Pipeline:
    gen = ingest(span=span).with_id("gen")
    window = Resolver(
        strategy_class=SpanRangeStrategy,
        config={"range_config": range_config_pb2.RangeConfig(rolling_range={"num_spans": 2})},
        examples=Channel(type=Examples, producer_component_id="gen", output_key="examples"),
    ).with_id("span_resolver")
    return Pipeline("rolling", root, [gen, window, Summarize(examples=window.outputs["examples"])])


def summary_of(result) -> list[int]:
    with open(os.path.join(result.output("Summarize", "summary").uri, "spans.json")) as handle:
        return json.load(handle)


@pytest.mark.slow
def test_a_rolling_span_window_on_beam_gives_a_multiple_input_the_last_two_spans(pipeline_root):
    runs = [BeamDagRunner().run(rolling_pipeline(pipeline_root, span)) for span in (1, 2, 3)]
    assert [summary_of(r) for r in runs] == [[1], [2, 1], [3, 2]]
    assert all(r.succeeded and r.nodes["span_resolver"].status == "ran" for r in runs)
    again = BeamDagRunner().run(rolling_pipeline(pipeline_root, 3))
    assert statuses(again) == {"gen": "cached", "span_resolver": "ran", "Summarize": "cached"}


def test_a_failing_strategy_fails_its_node_records_it_and_skips_what_follows(pipeline_root):
    class Exploding(ResolverStrategy):
        def resolve_artifacts(self, store, input_dict):
            raise RuntimeError("strategy exploded")

    gen = ingest(span=1).with_id("gen")
    resolver = Resolver(strategy_class=Exploding, examples=gen.outputs["examples"]).with_id("boom")
    result = LocalDagRunner().run(Pipeline("fails", pipeline_root, [Summarize(examples=resolver.outputs["examples"])]))
    assert statuses(result) == {"gen": "ran", "boom": "failed", "Summarize": "skipped"}
    assert "strategy exploded" in str(result.nodes["boom"].error) and not result.succeeded
    [failed] = executions_of(raw_store(pipeline_root), "boom")
    assert state_name(failed) == "FAILED" and "strategy exploded" in failed.custom_properties["error"].string_value


def test_a_strategy_that_invents_artifacts_or_keys_is_refused(pipeline_root):
    class Inventive(ResolverStrategy):
        def resolve_artifacts(self, store, input_dict):
            return {"examples": [Examples("/made/up")]}

    class WrongKey(ResolverStrategy):
        def resolve_artifacts(self, store, input_dict):
            return {"other": []}

    for strategy, message in ((Inventive, "must choose recorded Examples"), (WrongKey, "answered for ['other']")):
        gen = ingest(span=1).with_id("gen")
        resolver = Resolver(strategy_class=strategy, examples=gen.outputs["examples"]).with_id("r")
        result = LocalDagRunner().run(Pipeline(f"invents-{strategy.__name__}", pipeline_root, [resolver]))
        assert result.nodes["r"].status == "failed"
        assert message in str(result.nodes["r"].error)


def test_a_single_input_given_several_artifacts_fails_with_a_fix(pipeline_root):
    class Doubler(ResolverStrategy):
        def resolve_artifacts(self, store, input_dict):
            return {"examples": input_dict["examples"] * 2}

    @component
    def one(examples: InputArtifact[Examples], out: OutputArtifact[Examples]) -> None: ...

    gen = ingest(span=1).with_id("gen")
    doubled = Resolver(strategy_class=Doubler, examples=gen.outputs["examples"]).with_id("doubled")
    result = LocalDagRunner().run(Pipeline("single", pipeline_root, [one(examples=doubled.outputs["examples"])]))
    assert statuses(result) == {"gen": "ran", "doubled": "ran", "one": "failed"}
    assert "input 'examples' takes one Examples but doubled.outputs['examples'] gave 2" in str(result.nodes["one"].error)
    assert "multiple=True" in str(result.nodes["one"].error)


def test_a_producer_less_channel_wired_to_an_input_gives_the_newest_recorded_artifact(pipeline_root):
    def pushing(quality: float) -> Pipeline:
        pusher = push(model=Channel(type=Model, producer_component_id="trainer")).with_id("pusher")
        return Pipeline("blessings", pipeline_root, [pusher, train(quality=quality).with_id("trainer")])

    first = LocalDagRunner().run(pushing(0.9))
    assert statuses(first) == {"trainer": "ran", "pusher": "ran"}  # the named producer runs first
    second = LocalDagRunner().run(pushing(0.3))
    with open(os.path.join(second.output("pusher", "pushed").uri, "source")) as handle:
        assert int(handle.read()) == second.output("trainer", "model").id > first.output("trainer", "model").id
    other = LocalDagRunner().run(Pipeline("elsewhere", pipeline_root, [push(model=Channel(type=Model)).with_id("pusher")]))
    assert other.nodes["pusher"].status == "skipped"  # another pipeline's models are not this one's

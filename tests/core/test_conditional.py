"""Cond: nodes under a false predicate are skipped (with their dependents), recorded, and the run succeeds."""

from __future__ import annotations

import io
import os
import re

import pytest
from mlmd_helpers import executions_of, raw_store, state_name
from rich.console import Console

from pipelinekit import (
    BeamDagRunner,
    Channel,
    Cond,
    InputArtifact,
    LatestArtifactStrategy,
    LocalDagRunner,
    ModelBlessing,
    OutputArtifact,
    Parameter,
    Pipeline,
    Resolver,
    String,
    compile_pipeline,
    component,
    logical_not,
    logical_or,
)
from pipelinekit.cli.progress import LiveProgress
from pipelinekit.dsl.conditional import ConditionError
from pipelinekit.errors import CompileError, DefinitionError, RunError


@component
def gate(blessing: OutputArtifact[ModelBlessing], bless: Parameter[bool]) -> None:
    blessing.mark(bless)


@component
def setting(flag: OutputArtifact[String], value: Parameter[str]) -> None:
    flag.value = value


@component
def deploy(target: OutputArtifact[String], name: Parameter[str] = "deployed") -> None:
    target.value = name


@component
def announce(target: InputArtifact[String], note: OutputArtifact[String]) -> None:
    note.value = f"announced {target.value}"


def blessed(node) -> object:
    return node.outputs["blessing"].future()[0].custom_property("blessed") == 1


def gated_pipeline(root: str, bless: bool) -> Pipeline:
    check = gate(bless=bless).with_id("gate")
    with Cond(blessed(check)):
        pusher = deploy().with_id("deploy")
    return Pipeline("gated", root, [announce(target=pusher.outputs["target"]).with_id("announce")])


def statuses(result) -> dict[str, str]:
    return {node_id: r.status for node_id, r in result.nodes.items()}


CONDITION = "gate.outputs['blessing'].future()[0].custom_property('blessed') == 1"


def test_a_false_condition_skips_the_node_and_its_dependents_records_why_and_the_run_succeeds(pipeline_root):
    result = LocalDagRunner().run(gated_pipeline(pipeline_root, bless=False))
    assert statuses(result) == {"gate": "ran", "deploy": "skipped", "announce": "skipped"}
    assert result.succeeded and result.status == "COMPLETE"
    assert result.nodes["deploy"].reason == f"condition {CONDITION} is false"
    assert result.nodes["announce"].reason == f"upstream node 'deploy' skipped: condition {CONDITION} is false"
    store = raw_store(pipeline_root)
    [skipped] = executions_of(store, "deploy")
    assert state_name(skipped) == "CANCELED"
    assert skipped.custom_properties["reason"].string_value == f"condition {CONDITION} is false"
    assert not os.path.exists(os.path.join(pipeline_root, "deploy"))
    [run] = store.get_contexts_by_type("pipeline_run")
    assert run.custom_properties["status"].string_value == "COMPLETE" and run.custom_properties["skipped"].int_value == 2


def test_a_true_condition_runs_the_node_and_a_rerun_is_cached(pipeline_root):
    first = LocalDagRunner().run(gated_pipeline(pipeline_root, bless=True))
    assert statuses(first) == {"gate": "ran", "deploy": "ran", "announce": "ran"}
    assert first.output("announce", "note").value == "announced deployed"
    second = LocalDagRunner().run(gated_pipeline(pipeline_root, bless=True))
    assert set(statuses(second).values()) == {"cached"}
    third = LocalDagRunner().run(gated_pipeline(pipeline_root, bless=False))  # the verdict changed: skipped again
    assert statuses(third) == {"gate": "ran", "deploy": "skipped", "announce": "skipped"}


def switches(root: str, outer: str, inner: str) -> Pipeline:
    a = setting(value=outer).with_id("a")
    b = setting(value=inner).with_id("b")
    with Cond(a.outputs["flag"].future()[0].value == "on"):
        first = deploy(name="first").with_id("first")
        with Cond(b.outputs["flag"].future()[0].value == "on"):
            both = deploy(name="both").with_id("both")
    with Cond(logical_or(logical_not(a.outputs["flag"].future()[0].value == "on"), b.outputs["flag"].future()[0].value == "on")):
        either = deploy(name="either").with_id("either")
    return Pipeline("nested", root, [first, both, either])


@pytest.mark.parametrize(
    ("outer", "inner", "expected"),
    [
        ("on", "on", {"first": "ran", "both": "ran", "either": "ran"}),
        ("on", "off", {"first": "ran", "both": "skipped", "either": "skipped"}),
        ("off", "on", {"first": "skipped", "both": "skipped", "either": "ran"}),
    ],
)
def test_nested_conditions_and_together_and_logical_predicates_evaluate_at_run_time(pipeline_root, outer, inner, expected):
    pipeline = switches(pipeline_root, outer, inner)
    assert len(pipeline.components[1].conditions) == 2
    result = LocalDagRunner().run(pipeline)
    assert {k: v for k, v in statuses(result).items() if k in expected} == expected
    assert result.succeeded


def test_a_missing_property_makes_a_comparison_false_and_resolvers_obey_conditions_too(pipeline_root):
    check = gate(bless=True).with_id("gate")
    with Cond(check.outputs["blessing"].future()[0].custom_property("no_such_property") == 1):
        guarded = deploy().with_id("deploy")
        resolver = Resolver(strategy_class=LatestArtifactStrategy, blessing=Channel(type=ModelBlessing)).with_id("resolver")
    result = LocalDagRunner().run(Pipeline("missing", pipeline_root, [guarded, resolver]))
    assert statuses(result) == {"gate": "ran", "deploy": "skipped", "resolver": "skipped"}
    assert re.fullmatch(
        r"condition (.*) == 1 is false; \1: ModelBlessing\(id=\d+, uri='.*'\) has no custom property 'no_such_property'",
        result.nodes["deploy"].reason,
    )
    assert state_name(executions_of(raw_store(pipeline_root), "resolver")[0]) == "CANCELED"


@pytest.mark.slow
def test_on_beam_a_false_condition_skips_without_failing_and_a_rerun_never_runs_it(pipeline_root):
    first = BeamDagRunner().run(gated_pipeline(pipeline_root, bless=False))
    assert statuses(first) == {"gate": "ran", "deploy": "skipped", "announce": "skipped"} and first.succeeded
    second = BeamDagRunner().run(gated_pipeline(pipeline_root, bless=False))
    assert statuses(second) == {"gate": "cached", "deploy": "skipped", "announce": "skipped"} and second.succeeded


def test_the_progress_lines_say_why_a_node_was_skipped(pipeline_root):
    output = io.StringIO()
    pipeline = gated_pipeline(pipeline_root, bless=False)
    LocalDagRunner(listener=LiveProgress(["gate", "deploy", "announce"], Console(file=output, width=300))).run(pipeline)
    lines = [line for line in output.getvalue().splitlines() if "deploy" in line and "skipped" in line]
    assert lines and f"condition {CONDITION} is false" in lines[0]


def test_a_condition_makes_its_node_depend_on_the_predicate_producer_and_cycles_are_caught(pipeline_root):
    check = gate(bless=True).with_id("gate")
    with Cond(blessed(check)):
        guarded = deploy().with_id("deploy")
    assert guarded.upstream_nodes == [check]
    assert compile_pipeline(Pipeline("deps", pipeline_root, [guarded])).layers == (("gate",), ("deploy",))
    loop = deploy().with_id("loop")
    with Cond(loop.outputs["target"].future()[0].value == "x"):
        looped = announce(target=loop.outputs["target"]).with_id("looped")
    loop.add_upstream_node(looped)
    with pytest.raises(CompileError, match="cycle between nodes"):
        compile_pipeline(Pipeline("cycle", pipeline_root, [looped]))


def test_cond_takes_only_predicates_and_predicates_refuse_python_truthiness():
    check = gate(bless=True)
    with pytest.raises(ConditionError, match="Cond takes a predicate"):
        Cond(check.outputs["blessing"].future()[0].custom_property("blessed"))
    with pytest.raises(TypeError):
        Cond(True)
    with pytest.raises(DefinitionError, match="no truth value"):
        bool(blessed(check))
    with pytest.raises(DefinitionError, match="not and/or/not"):
        _ = blessed(check) and blessed(check)
    with Cond(blessed(check)):
        inside = deploy()
    assert deploy().conditions == () and len(inside.conditions) == 1


@component
def broken(target: OutputArtifact[String]) -> None:
    raise ValueError("broken on purpose")


def test_a_failure_report_names_only_the_nodes_skipped_because_of_the_failure(pipeline_root):
    check = gate(bless=False).with_id("gate")
    with Cond(blessed(check)):
        pusher = deploy().with_id("deploy")
    failing = broken().with_id("broken")
    after = announce(target=failing.outputs["target"]).with_id("after")
    result = LocalDagRunner().run(Pipeline("mixed", pipeline_root, [pusher, after]))
    assert statuses(result) == {"gate": "ran", "broken": "failed", "deploy": "skipped", "after": "skipped"}
    assert result.status == "FAILED"
    with pytest.raises(RunError, match="skipped because of it: after. Fix it") as caught:
        result.raise_for_failure()
    assert "deploy" not in str(caught.value)


def test_a_rerun_settles_condition_skips_before_beam_so_a_cached_run_never_starts_it(pipeline_root, monkeypatch):
    BeamDagRunner().run(gated_pipeline(pipeline_root, bless=False)).raise_for_failure()

    def no_beam(*args, **kwargs):
        raise AssertionError("Beam was started for a run whose every node was cached or skipped")

    monkeypatch.setattr(BeamDagRunner, "_run_on_beam", no_beam)
    rerun = BeamDagRunner().run(gated_pipeline(pipeline_root, bless=False))
    assert statuses(rerun) == {"gate": "cached", "deploy": "skipped", "announce": "skipped"}

"""Placeholders: what they resolve to, how they read, and placeholder parameters in real runs."""

from __future__ import annotations

import threading

import pytest
from mlmd_helpers import executions_of, raw_store

from pipelinekit import (
    BeamDagRunner,
    Examples,
    Integer,
    LocalDagRunner,
    OutputArtifact,
    Parameter,
    Pipeline,
    Placeholder,
    String,
    compile_pipeline,
    component,
    logical_and,
    logical_not,
    logical_or,
)
from pipelinekit.dsl.node import bound_parameters
from pipelinekit.dsl.placeholder import MissingValueError, PlaceholderError
from pipelinekit.errors import CompileError, DefinitionError


@component
def configure(text: OutputArtifact[String], number: OutputArtifact[Integer], content: Parameter[str] = "{}") -> None:
    text.value = content
    number.value = len(content)


@component
def consume(echo: OutputArtifact[String], config: Parameter[str] = "") -> None:
    echo.value = f"got {config}"


@component
def examples_out(examples: OutputArtifact[Examples]) -> None: ...


def fake_run(channel_artifacts: dict) -> object:
    """A reader over artifacts made by hand: what each channel holds."""
    return lambda channel: channel_artifacts.get(id(channel), [])


def made(cls, uri, artifact_id, **custom):
    artifact = cls(uri)
    artifact.id = artifact_id
    artifact.custom_properties.update(custom)
    return artifact


def test_placeholders_read_values_uris_and_properties(tmp_path):
    node = examples_out().with_id("gen")
    channel = node.outputs["examples"]
    examples = made(Examples, str(tmp_path / "e"), 3, span=7)
    examples.split_names = '["train"]'
    read = fake_run({id(channel): [examples]})
    future = channel.future()
    assert future.resolve(read) == [examples] and future[0].resolve(read) is examples
    assert future[0].uri.resolve(read) == examples.uri
    assert future[0].property("split_names").resolve(read) == '["train"]'
    assert future[0].custom_property("span").resolve(read) == 7
    assert repr(future[0].custom_property("span") >= 7) == "gen.outputs['examples'].future()[0].custom_property('span') >= 7"
    assert (future[0].custom_property("span") >= 7).resolve(read) is True
    assert (future[0].custom_property("span") != 7).resolve(read) is False
    assert (future[0].custom_property("span") < 8).resolve(read) is True
    assert (future[0].property("span") > 0).resolve(read) is False  # unset typed property: missing, so false


def test_value_placeholders_read_value_artifacts_and_logic_combines_predicates(tmp_path):
    node = configure()
    text, number = String(str(tmp_path / "t")), Integer(str(tmp_path / "n"))
    text.value, number.value = "on", 3
    read = fake_run({id(node.outputs["text"]): [text], id(node.outputs["number"]): [number]})
    is_on = node.outputs["text"].future()[0].value == "on"
    big = node.outputs["number"].future()[0].value > 5
    assert node.outputs["number"].future()[0].value.resolve(read) == 3
    assert logical_and(is_on, big).resolve(read) is False and (is_on & ~big).resolve(read) is True
    assert logical_or(big, is_on).resolve(read) is True and (big | big).resolve(read) is False
    assert logical_not(is_on).resolve(read) is False
    assert repr(is_on & ~big) == (
        "(configure.outputs['text'].future()[0].value == 'on') and "
        "(not (configure.outputs['number'].future()[0].value > 5))"
    )


def test_placeholder_mistakes_are_named(tmp_path):
    node = examples_out().with_id("gen")
    future = node.outputs["examples"].future()
    read = fake_run({id(node.outputs["examples"]): [made(Examples, str(tmp_path), 1)]})
    with pytest.raises(MissingValueError, match=r"gen.outputs\['examples'\].future\(\)\[1\]: the channel holds 1 artifact"):
        future[1].resolve(read)
    with pytest.raises(MissingValueError, match="has no custom property 'span'"):
        future[0].custom_property("span").resolve(read)
    with pytest.raises(PlaceholderError, match="Examples is not a value artifact"):
        future[0].value.resolve(read)
    with pytest.raises(PlaceholderError, match="cannot compare"):
        (future[0].uri < 3).resolve(read)
    with pytest.raises(DefinitionError, match="index a future with an int"):
        future["0"]
    with pytest.raises(DefinitionError, match="compare a value, not artifacts"):
        future[0] == 1  # noqa: B015
    with pytest.raises(DefinitionError, match="takes predicates"):
        logical_and(future[0].uri)
    unwritten = String(str(tmp_path / "nothing"))
    unwritten.id = 2
    text_node = configure()
    with pytest.raises(MissingValueError, match="has no value file"):
        text_node.outputs["text"].future()[0].value.resolve(fake_run({id(text_node.outputs["text"]): [unwritten]}))


def placeholder_pipeline(root: str, content: str) -> Pipeline:
    source = configure(content=content).with_id("source")
    reader = consume(config=source.outputs["text"].future()[0].value).with_id("reader")
    return Pipeline("values", root, [reader])


def test_a_placeholder_parameter_implies_a_dependency_and_runs_with_its_value_in_the_cache_key(pipeline_root):
    pipeline = placeholder_pipeline(pipeline_root, '{"start": 1}')
    assert compile_pipeline(pipeline).upstream["reader"] == ("source",)
    first = LocalDagRunner().run(pipeline)
    assert first.output("reader", "echo").value == 'got {"start": 1}'
    assert isinstance(pipeline.components[0].given_parameters["config"], Placeholder)  # the node keeps its placeholder
    second = LocalDagRunner().run(placeholder_pipeline(pipeline_root, '{"start": 1}'))
    assert second.nodes["reader"].status == "cached"
    third = LocalDagRunner().run(placeholder_pipeline(pipeline_root, '{"start": 2}'))
    assert third.nodes["reader"].status == "ran" and third.nodes["reader"].reason == "parameter 'config' changed"
    assert third.output("reader", "echo").value == 'got {"start": 2}'
    assert len(executions_of(raw_store(pipeline_root), "reader")) == 3


def test_placeholder_parameters_that_cannot_fit_fail_at_compile_or_run_time_naming_the_parameter(pipeline_root):
    source = configure().with_id("source")
    with pytest.raises(CompileError, match=r"parameter 'config': source.outputs\['text'\].future\(\)\[0\] stands for artifacts"):
        compile_pipeline(Pipeline("p", pipeline_root, [consume(config=source.outputs["text"].future()[0])]))
    wrong_type = consume(config=source.outputs["number"].future()[0].value).with_id("reader")
    result = LocalDagRunner().run(Pipeline("p", pipeline_root, [wrong_type]))
    assert result.nodes["reader"].status == "failed"
    assert "node 'reader', parameter 'config'" in str(result.nodes["reader"].error)
    assert "expected str, got int 2" in str(result.nodes["reader"].error)


def test_explicit_ordering_with_tfx_names(pipeline_root):
    first, second, third = (consume().with_id(name) for name in ("first", "second", "third"))
    second.add_upstream_node(first)
    second.add_downstream_node(third)
    plan = compile_pipeline(Pipeline("order", pipeline_root, [third]))
    assert plan.layers == (("first",), ("second",), ("third",))


def test_bound_parameter_values_are_private_to_each_thread():
    reader = consume(config=configure().outputs["text"].future()[0].value)
    seen: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def launch(value: str) -> None:
        with bound_parameters(reader, {"config": value}):
            barrier.wait()  # both bindings are active at once
            seen[value] = reader.parameters["config"]

    threads = [threading.Thread(target=launch, args=(value,)) for value in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"one": "one", "two": "two"}
    assert isinstance(reader.parameters["config"], Placeholder)


@pytest.mark.slow
def test_placeholder_parameters_resolve_per_node_when_beam_runs_nodes_in_parallel(pipeline_root):
    sources = [configure(content=text).with_id(f"source_{i}") for i, text in enumerate(("left", "right"))]
    readers = [consume(config=s.outputs["text"].future()[0].value).with_id(f"reader_{i}") for i, s in enumerate(sources)]
    result = BeamDagRunner().run(Pipeline("parallel", pipeline_root, readers))
    assert [result.output(f"reader_{i}", "echo").value for i in range(2)] == ["got left", "got right"]
